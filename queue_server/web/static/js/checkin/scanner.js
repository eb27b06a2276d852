/*
 * Antre scanner: the PURE rules of reading a ticket's check-in QR code.
 *
 * A USB/2D barcode scanner "types" what it reads like a keyboard: many
 * characters a few milliseconds apart, then Enter. A person types far slower
 * (60 ms or more a key, even a fast typist over a long string), so a burst of
 * at least MIN_LENGTH characters whose keys came MEAN_GAP_MS apart on average,
 * ended by Enter, is a scan; anything else is a person and is left alone. One
 * late key (an old kiosk busy for a moment, USB polling) does not break a
 * burst; a pause over MAX_GAP_MS does. The kiosk listens on the whole page (no
 * field needs focus: the visitor just holds the code under the scanner).
 *
 * The code holds the ticket's token or the phone page's URL (.../t/<token>,
 * with or without an office base path /o/<id>); both give the token.
 * No DOM; loadable in node (tests/js/test_checkin.js).
 */
(function (global) {
  'use strict';

  var MEAN_GAP_MS = 25; // scanners send a key every 1-15 ms; people average 60 ms or more
  var MAX_GAP_MS = 100; // a longer pause ends the burst: what came before was a person
  var MIN_LENGTH = 16; // a token is 43 characters; shorter bursts are not a ticket

  /**
   * A detector. feed(key, timeMs) takes a KeyboardEvent.key and its time; it
   * returns the scanned text when this Enter ends a scan, else null.
   * typing(timeMs) says whether a scan is under way (so its Enter should not
   * also press a focused button).
   */
  function createDetector(opts) {
    opts = opts || {};
    var meanGap = opts.meanGapMs || MEAN_GAP_MS;
    var maxGap = opts.maxGapMs || MAX_GAP_MS;
    var minLength = opts.minLength || MIN_LENGTH;
    var buffer = '';
    var first = 0;
    var last = -Infinity;

    function reset() {
      buffer = '';
      last = -Infinity;
    }

    function fast() {
      return buffer.length >= minLength && (last - first) / (buffer.length - 1) <= meanGap;
    }

    function feed(key, time) {
      if (key === 'Enter') {
        var scanned = time - last <= maxGap && fast() ? buffer : null;
        reset();
        return scanned;
      }
      if (typeof key !== 'string' || key.length !== 1) {
        // Shift and friends come with each capital letter; they neither add nor break a burst.
        if (key === 'Shift' || key === 'CapsLock') return null;
        reset();
        return null;
      }
      if (time - last > maxGap) {
        buffer = '';
        first = time;
      }
      buffer += key;
      last = time;
      return null;
    }

    function typing(time) {
      return time - last <= maxGap && fast();
    }

    return { feed: feed, typing: typing, reset: reset };
  }

  var TOKEN = /^[A-Za-z0-9_-]{16,199}$/;
  var URL_TOKEN = /\/t\/([A-Za-z0-9_-]{16,199})\/?(?:[?#].*)?$/;

  /** The ticket token in a scanned code (a bare token or a ticket URL), else null. */
  function tokenFromScan(text) {
    if (typeof text !== 'string') return null;
    var s = text.trim();
    var m = URL_TOKEN.exec(s);
    if (m) return m[1];
    return TOKEN.test(s) ? s : null;
  }

  var AntreScanner = {
    createDetector: createDetector,
    tokenFromScan: tokenFromScan,
    MEAN_GAP_MS: MEAN_GAP_MS,
    MAX_GAP_MS: MAX_GAP_MS,
    MIN_LENGTH: MIN_LENGTH
  };
  global.AntreScanner = AntreScanner;
  if (typeof module !== 'undefined' && module.exports) module.exports = AntreScanner;
})(typeof window !== 'undefined' ? window : typeof globalThis !== 'undefined' ? globalThis : this);
