/*
 * Kiosk check-in (api-remote.md): a visitor who took a number from home holds
 * its QR code under the kiosk's scanner (a USB/2D scanner that types the code
 * and Enter, read anywhere on the page: checkin/scanner.js) or in front of
 * its camera (checkin/camera.js), and the kiosk checks the ticket in with
 * POST /api/v1/tickets/<token>/check-in. A paired kiosk's requests carry its
 * HttpOnly pairing cookie, which the server takes like X-Kiosk-Token; an
 * unpaired browser is refused (checkin_at_entrance), so nobody checks in
 * from home. The answer is shown as the kiosk's "checkin" step: come in and
 * wait, or wait outside, or the refusal in words.
 */
(function () {
  'use strict';

  var A = window.Antre;
  var page = A.page;
  var kiosk = window.antreKiosk;
  var state = { busy: false, scans: 0, last: null, camera: null };
  kiosk.checkin = state;

  function show(text, isError) {
    A.setText(A.byId('checkin-state'), isError ? '' : text);
    A.setText(A.byId('checkin-error'), isError ? text : '');
    A.show(A.byId('checkin-error'), !!isError);
  }

  function showTicket(ticket) {
    A.setText(A.byId('checkin-number'), ticket ? ticket.number : '');
    A.setText(A.byId('checkin-service'), ticket ? A.serviceName(ticket.service) : '');
    var admission = A.byId('checkin-admission');
    var outside = !!ticket && ticket.status === 'outside';
    A.setText(admission, !ticket ? '' : outside ? A.msg('kiosk.wait_outside') : A.msg('kiosk.come_in'));
    admission.classList.toggle('admission-out', outside);
    admission.classList.toggle('admission-in', !!ticket && !outside);
    A.show(admission, !!ticket);
  }

  function checkIn(text) {
    var token = window.AntreScanner.tokenFromScan(text);
    state.scans++;
    stopCamera();
    kiosk.showStep('checkin');
    showTicket(null);
    if (!token) {
      state.last = { status: null, code: 'not_a_ticket' };
      show(A.msg('kiosk.scan_unknown'), true);
      return;
    }
    if (state.busy) return;
    state.busy = true;
    show(A.msg('kiosk.checking_in'), false);
    // Checking in twice answers not_remote the second time and changes nothing, so a retry is safe.
    A.send('POST', '/api/v1/tickets/' + encodeURIComponent(token) + '/check-in', null, { retries: 2 }).then(
      function (res) {
        state.busy = false;
        state.last = { status: res.status, code: res.body && res.body.error ? res.body.error.code : null };
        if (res.status === 200 && res.body) {
          show(A.msg('kiosk.checked_in', { number: res.body.number }), false);
          showTicket(res.body);
        } else if (state.last.code === 'not_remote') {
          alreadyIn(token, res);
          return;
        } else if (res.status === 404) {
          show(A.msg('kiosk.scan_unknown'), true);
        } else {
          show(A.errorText(res), true);
        }
        kiosk.showStep('checkin'); // restarts the way back to the start screen
      },
      function () {
        state.busy = false;
        state.last = { status: 0, code: 'network' };
        show(A.msg('error.network'), true);
      }
    );
  }
  state.checkIn = checkIn; // tests drive the camera path through this

  // Scanned twice, or the first answer was lost on the way: a ticket already in the queue is
  // the visitor's good news, not an error.
  function alreadyIn(token, refusal) {
    A.request('GET', '/api/v1/tickets/' + encodeURIComponent(token), null).then(function (res) {
      var t = res.status === 200 ? res.body : null;
      if (t && (t.status === 'waiting' || t.status === 'outside')) {
        show(A.msg('kiosk.checked_in', { number: t.number }), false);
        showTicket(t);
      } else {
        show(A.errorText(refusal), true);
      }
      kiosk.showStep('checkin');
    }, function () {
      show(A.errorText(refusal), true);
    });
  }

  /* ---------- the scanner: keystrokes anywhere on the page ---------- */

  var detector = window.AntreScanner.createDetector();

  function typingIntoField(target) {
    var tag = target && target.tagName;
    return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT';
  }

  document.addEventListener('keydown', function (e) {
    if (typingIntoField(e.target) || e.ctrlKey || e.altKey || e.metaKey) return;
    var now = e.timeStamp || Date.now();
    var scanning = detector.typing(now);
    var text = detector.feed(e.key, now);
    // The scanner's Enter must not also press the tile or button that has focus.
    if (e.key === 'Enter' && (text || scanning)) e.preventDefault();
    if (text) checkIn(text);
  }, true);

  /* ---------- the camera, where the kiosk has one ---------- */

  // A camera left open with nobody in front of it closes with the kiosk's own way back to the
  // start (kiosk.js: 15 s after the last touch on the check-in step; reset() calls onReset).
  function stopCamera() {
    if (state.camera) state.camera.stop();
    state.camera = null;
    A.show(A.byId('camera-box'), false);
  }

  function startCamera() {
    if (state.camera) return;
    kiosk.showStep('checkin');
    showTicket(null);
    show(A.msg('kiosk.checkin_hint'), false);
    A.show(A.byId('camera-box'), true);
    state.camera = window.AntreCamera.start(A.byId('camera-video'), page.decoder, checkIn, function () {
      stopCamera();
      show(A.msg('kiosk.camera_failed'), true);
    });
  }

  var cameraButton = A.byId('camera-start');
  if (cameraButton && !kiosk.onPhone) {
    window.AntreCamera.available().then(function (yes) {
      A.show(cameraButton, yes);
    });
    cameraButton.addEventListener('click', startCamera);
  }

  A.byId('checkin-done').addEventListener('click', function () {
    kiosk.reset();
  });
  kiosk.onReset = stopCamera;
})();
