/*
 * Antre scanner: the PURE rules of reading a ticket's check-in QR code.
 *
 * A USB/2D barcode scanner "types" what it reads like a keyboard: many
 * characters a few milliseconds apart, then Enter. A person typing is far
 * slower (more than 30 ms between keys even for a fast typist), so a burst
 * of at least MIN_LENGTH characters, each within MAX_GAP_MS of the one before,
 * ended by Enter, is a scan; anything else is a person and is left alone.
 * The kiosk listens on the whole page (no field needs focus: the visitor
 * just holds the code under the scanner).
 *
 * The code holds the ticket's token or the phone page's URL (.../t/<token>,
 * with or without an office base path /o/<id>); both give the token.
 * No DOM; loadable in node (tests/js/test_checkin.js).
 */
(function (global) {
  'use strict';

  var MAX_GAP_MS = 35; // scanners send a key every 1-15 ms; people rarely under 60 ms
  var MIN_LENGTH = 16; // a token is 43 characters; shorter bursts are not a ticket

  /**
   * A detector. feed(key, timeMs) takes a KeyboardEvent.key and its time; it
   * returns the scanned text when this Enter ends a scan, else null.
   * typing() says whether a burst is under way (so Enter should not click a
   * focused button).
   */
  function createDetector(opts) {
    opts = opts || {};
    var maxGap = opts.maxGapMs || MAX_GAP_MS;
    var minLength = opts.minLength || MIN_LENGTH;
    var buffer = '';
    var last = -Infinity;

    function reset() {
      buffer = '';
      last = -Infinity;
    }

    function feed(key, time) {
      var gap = time - last;
      if (key === 'Enter') {
        var text = buffer;
        var fast = gap <= maxGap;
        reset();
        return fast && text.length >= minLength ? text : null;
      }
      if (typeof key !== 'string' || key.length !== 1) {
        // Shift and friends come with each capital letter; they neither add nor break a burst.
        if (key === 'Shift' || key === 'CapsLock') return null;
        reset();
        return null;
      }
      // A slow key starts over: what came before was a person, not the scanner.
      if (gap > maxGap) buffer = '';
      buffer += key;
      last = time;
      return null;
    }

    function typing(time) {
      return buffer.length >= minLength && time - last <= maxGap;
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
    MAX_GAP_MS: MAX_GAP_MS,
    MIN_LENGTH: MIN_LENGTH
  };
  global.AntreScanner = AntreScanner;
  if (typeof module !== 'undefined' && module.exports) module.exports = AntreScanner;
})(typeof window !== 'undefined' ? window : typeof globalThis !== 'undefined' ? globalThis : this);
