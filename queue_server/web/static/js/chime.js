/*
 * Antre chime: the one set of short tones every screen uses (the counter's
 * soft "someone is waiting", the phone's "please come in" and "your turn",
 * the lobby announcer's fallback chime when its clip is missing). One place,
 * so the sounds stay alike and the Web Audio details are written once.
 *
 *   AntreChime.unlockOnGesture();          // resume audio on the first tap or key
 *   AntreChime.play('arrival');            // returns the length in ms (0 when silent)
 *   AntreChime.play('lobby', {ctx: ctx});  // on an AudioContext of one's own
 */
(function (global) {
  'use strict';

  // [frequency Hz, seconds] per note, and a peak gain: soft at a desk, loud in a lobby.
  var TUNES = {
    arrival: { gain: 0.12, notes: [[880, 0.18], [660, 0.3]] },
    come_in: { gain: 0.5, notes: [[659, 0.3], [880, 0.4]] },
    called: { gain: 0.5, notes: [[784, 0.25], [1047, 0.25], [784, 0.25], [1047, 0.4]] },
    test: { gain: 0.5, notes: [[659, 0.3], [880, 0.4]] },
    lobby: { gain: 0.4, notes: [[659.25, 0.45], [523.25, 0.8]] }
  };

  var shared = null;

  function context() {
    if (shared) return shared;
    var Ctx = global.AudioContext || global.webkitAudioContext;
    if (!Ctx) return null;
    try {
      shared = new Ctx();
    } catch (err) {
      shared = null;
    }
    return shared;
  }

  // Browsers start audio suspended until the page is used; the first tap or key unlocks it.
  function unlockOnGesture() {
    var doc = global.document;
    if (!doc) return;
    ['pointerdown', 'keydown', 'touchstart'].forEach(function (name) {
      doc.addEventListener(name, function () {
        var ctx = context();
        if (ctx && ctx.state === 'suspended' && ctx.resume) ctx.resume();
      }, true);
    });
  }

  /** Play a tune; returns its length in ms, 0 when audio is not running (nothing is an error). */
  function play(kind, opts) {
    var tune = TUNES[kind] || TUNES.arrival;
    var ctx = (opts && opts.ctx) || context();
    if (!ctx || ctx.state !== 'running') return 0;
    var total = 0;
    try {
      var t = ctx.currentTime + 0.03;
      tune.notes.forEach(function (note) {
        var osc = ctx.createOscillator();
        var gain = ctx.createGain();
        osc.frequency.value = note[0];
        gain.gain.setValueAtTime(0.0001, t);
        gain.gain.exponentialRampToValueAtTime(tune.gain, t + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + note[1]);
        osc.connect(gain);
        gain.connect(ctx.destination);
        osc.start(t);
        osc.stop(t + note[1]);
        t += note[1];
        total += note[1];
      });
    } catch (err) {
      return 0;
    }
    return Math.round(total * 1000);
  }

  var AntreChime = { play: play, context: context, unlockOnGesture: unlockOnGesture, TUNES: TUNES };
  global.AntreChime = AntreChime;
  if (typeof module !== 'undefined' && module.exports) module.exports = AntreChime;
})(typeof window !== 'undefined' ? window : typeof globalThis !== 'undefined' ? globalThis : this);
