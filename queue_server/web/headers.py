"""Security headers sent with every HTTP answer."""

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        b"frame-ancestors 'none'; form-action 'self'",
    ),
    # The kiosk reads check-in QR codes with its own camera (static/js/checkin/camera.js); only our
    # own scripts run under the CSP above, and a browser still asks before it opens the camera.
    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
]
