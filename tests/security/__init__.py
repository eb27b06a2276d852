"""Security pass: access table, sessions, CSRF, headers, secrets hygiene, fuzzing."""
