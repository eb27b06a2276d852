/*
 * Antre call announcer for the lobby display: the player (queue, audio, the
 * enable-sound button). What to say comes from announcer/phrase.js; load it first.
 *
 * Each call becomes: chime, then "Nomor antrean, A, nol, nol, tiga, silakan
 * menuju loket, dua" built from short clips (static/audio/<lang>/, made by
 * scripts/make_audio.py) played back to back with Web Audio. Clips instead of
 * speechSynthesis because most TV boxes and kiosk PCs have no Indonesian voice
 * and the office has no internet for a cloud one; speechSynthesis is only the
 * fallback when the clips cannot be loaded.
 *
 * Calls go through one FIFO: never dropped, never overlapping; three calls in
 * the same second are spoken one after another in arrival order.
 *
 * Plain ES2017, no modules (old Android TV WebViews).
 *
 * API:
 *   var a = new AntreAnnouncer({lang: 'id'});   // or langs: ['id', 'en']
 *   a.announce({number: 'A003', counter: '2', counterName: 'Loket 2'});
 *   a.connect();        // announce ticket.called / ticket.recalled from live.js
 *   a.queue             // pending items [{text, number, counter, ...}]
 *   a.played            // texts already announced, in order
 *   a.enableSound()     // call from a user gesture (the #enable-sound button does)
 * Or without page code: <body data-announcer="id"> (or "id,en").
 * Tests read window.antreAnnouncer.
 */
(function (global) {
  'use strict';

  var DEFAULTS = {
    lang: 'id',
    langs: null, // e.g. ['id', 'en'] to say each call in both languages
    audioBase: '/static/audio',
    enableButtonId: 'enable-sound',
    enableLabel: null, // button text when the page did not provide the button
    chime: true,
    chimeGapMs: 250, // pause after the chime
    wordGapMs: 40, // between clips of one phrase part
    partGapMs: 220, // between "nomor antrean" / number / "silakan menuju loket" / counter
    langGapMs: 600, // between the Indonesian and English versions
    callGapMs: 900, // between two calls, so they are heard as separate
    staleAfterMs: 180000, // a call still queued after this (sound was blocked) is not spoken
    maxEventAgeMs: 60000, // connect(): events older than this (a resume burst) are not announced
    volume: 1,
    onStart: null, // function (item)
    onEnd: null, // function (item)
    expose: 'antreAnnouncer',
    autoplayCheckMs: 400
  };

  /* ---------- phrases come from announcer/phrase.js (pure) ---------- */

  var Phrase = global.AntrePhrase;
  var LANGS = Phrase.LANGS;
  var buildPhrase = Phrase.buildPhrase;
  var numberWords = Phrase.numberWords;

  /* ---------- the announcer ---------- */

  function AntreAnnouncer(options) {
    var o = Object.assign({}, DEFAULTS, options || {});
    this.options = o;
    this.langs = (o.langs && o.langs.length ? o.langs : [o.lang]).filter(function (l) {
      return !!LANGS[l];
    });
    if (!this.langs.length) this.langs = ['id'];
    this.queue = []; // pending items, oldest first
    this.played = []; // texts already announced, in order
    this.playedItems = [];
    this.skipped = []; // items not spoken because they went stale while sound was blocked
    this.current = null;
    this.mode = 'loading'; // 'clips' | 'speech' | 'silent' (per-language detail in modes)
    this.modes = {};
    this.blocked = false;
    this.errors = [];
    this._nextId = 1;
    this._busy = false;
    this._buffers = {}; // lang -> {key: AudioBuffer}
    this._manifests = {};
    this._ctx = null;
    if (o.expose) global[o.expose] = this;
    this._setupButton();
    this.ready = this._load();
  }

  AntreAnnouncer.prototype._audioContext = function () {
    if (this._ctx) return this._ctx;
    var Ctx = global.AudioContext || global.webkitAudioContext;
    if (!Ctx) return null;
    try {
      this._ctx = new Ctx();
    } catch (err) {
      this._ctx = null;
      return null;
    }
    var self = this;
    this._ctx.onstatechange = function () {
      if (self._ctx.state === 'running') self._unblocked();
    };
    return this._ctx;
  };

  AntreAnnouncer.prototype._load = function () {
    var self = this;
    var ctx = this._audioContext();
    var jobs = this.langs.map(function (lang) {
      if (!ctx || typeof fetch !== 'function') {
        self.modes[lang] = self._speechAvailable() ? 'speech' : 'silent';
        return Promise.resolve();
      }
      return self._loadLang(ctx, lang).then(
        function () {
          self.modes[lang] = 'clips';
        },
        function (err) {
          self.errors.push(String(err && err.message ? err.message : err));
          self.modes[lang] = self._speechAvailable() ? 'speech' : 'silent';
        }
      );
    });
    return Promise.all(jobs).then(function () {
      var modes = self.langs.map(function (l) {
        return self.modes[l];
      });
      self.mode = modes.indexOf('clips') >= 0 ? 'clips' : modes[0];
      self._checkAutoplay();
      self._pump();
      return self;
    });
  };

  AntreAnnouncer.prototype._loadLang = function (ctx, lang) {
    var self = this;
    var base = this.options.audioBase + '/' + lang + '/';
    return fetch(base + 'manifest.json', { cache: 'no-cache' })
      .then(function (res) {
        if (!res.ok) throw new Error(lang + ' manifest: HTTP ' + res.status);
        return res.json();
      })
      .then(function (manifest) {
        self._manifests[lang] = manifest;
        var keys = Object.keys(manifest.clips || {});
        var buffers = {};
        return Promise.all(
          keys.map(function (key) {
            return fetch(base + manifest.clips[key].file)
              .then(function (res) {
                if (!res.ok) throw new Error(lang + '/' + key + ': HTTP ' + res.status);
                return res.arrayBuffer();
              })
              .then(function (data) {
                return decode(ctx, data);
              })
              .then(function (buf) {
                buffers[key] = buf;
              });
          })
        ).then(function () {
          // Every phrase needs at least these; without them use speech.
          var L = LANGS[lang];
          var needed = [L.intro, L.toCounter].concat(L.digits);
          needed.forEach(function (k) {
            if (!buffers[k]) throw new Error(lang + ': clip missing: ' + k);
          });
          self._buffers[lang] = buffers;
        });
      });
  };

  function decode(ctx, data) {
    // Old WebKit only has the callback form; newer ones return a promise too.
    return new Promise(function (resolve, reject) {
      var p = ctx.decodeAudioData(data, resolve, reject);
      if (p && typeof p.then === 'function') p.then(resolve, reject);
    });
  }

  AntreAnnouncer.prototype._speechAvailable = function () {
    return !!(global.speechSynthesis && global.SpeechSynthesisUtterance);
  };

  /* ----- autoplay / enable-sound button ----- */

  AntreAnnouncer.prototype._setupButton = function () {
    var doc = global.document;
    if (!doc || !this.options.enableButtonId) return;
    var self = this;
    var install = function () {
      var btn = doc.getElementById(self.options.enableButtonId);
      if (!btn && doc.body) {
        btn = doc.createElement('button');
        btn.type = 'button';
        btn.id = self.options.enableButtonId;
        btn.className = 'enable-sound';
        btn.hidden = true;
        btn.textContent = self.options.enableLabel || LANGS[self.langs[0]].enableLabel;
        doc.body.appendChild(btn);
      }
      if (btn) {
        btn.addEventListener('click', function () {
          self.enableSound();
        });
        self._button = btn;
        btn.hidden = !self.blocked;
      }
      // Any interaction with the page (a TV remote key, a tap) also unlocks audio.
      ['pointerdown', 'touchstart', 'keydown'].forEach(function (name) {
        doc.addEventListener(name, function () {
          if (self.blocked) self.enableSound();
        }, true);
      });
    };
    if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', install);
    else install();
  };

  // Browsers start an AudioContext 'suspended' until the page gets a user
  // gesture (unless the kiosk browser runs with an autoplay flag). Give resume()
  // a moment; if audio is still not running, show the enable-sound button.
  AntreAnnouncer.prototype._checkAutoplay = function () {
    var ctx = this._ctx;
    var self = this;
    if (!ctx || this.mode !== 'clips' || this._checking) return;
    if (ctx.state === 'running') {
      this._unblocked();
      return;
    }
    this._checking = true;
    try {
      var p = ctx.resume();
      if (p && p.then) p.then(function () {}, function () {});
    } catch (err) {
      /* ignore */
    }
    setTimeout(function () {
      self._checking = false;
      if (ctx.state === 'running') self._unblocked();
      else self._setBlocked(true);
    }, this.options.autoplayCheckMs);
  };

  AntreAnnouncer.prototype._audioRunning = function () {
    // speechSynthesis has no such state; Chrome reports a refusal per utterance.
    return this.mode !== 'clips' || !this._ctx || this._ctx.state === 'running';
  };

  AntreAnnouncer.prototype._setBlocked = function (blocked) {
    this.blocked = blocked;
    if (this._button) this._button.hidden = !blocked;
    var root = global.document && global.document.documentElement;
    if (root) root.setAttribute('data-sound', blocked ? 'blocked' : 'on');
  };

  AntreAnnouncer.prototype._unblocked = function () {
    if (this.blocked) this._setBlocked(false);
    this._pump();
  };

  /** Unlock audio; must run inside a user gesture (click, key, tap). */
  AntreAnnouncer.prototype.enableSound = function () {
    var self = this;
    var ctx = this._ctx;
    if (ctx) {
      // Playing a silent buffer inside the gesture is what old WebKit needs.
      try {
        var src = ctx.createBufferSource();
        src.buffer = ctx.createBuffer(1, 1, 22050);
        src.connect(ctx.destination);
        src.start(0);
      } catch (err) {
        /* ignore */
      }
      var p = ctx.resume ? ctx.resume() : null;
      if (p && p.then) {
        p.then(function () {
          self._unblocked();
        }, function () {});
      }
    }
    if (this._speechAvailable() && this.mode !== 'clips') {
      try {
        // An empty utterance inside the gesture unlocks later ones.
        global.speechSynthesis.speak(new global.SpeechSynthesisUtterance(''));
      } catch (err) {
        /* ignore */
      }
    }
    if (!ctx || ctx.state === 'running' || this.mode !== 'clips') this._unblocked();
  };

  /* ----- queue ----- */

  /**
   * Queue one call. call: {number, counter (id), counterName?, kind?}.
   * Returns the queued item.
   */
  AntreAnnouncer.prototype.announce = function (call) {
    var self = this;
    var counter = { id: call.counter, name: call.counterName || null };
    var phrases = this.langs.map(function (lang) {
      return buildPhrase(call.number, counter, lang, { chime: false });
    });
    var item = {
      id: this._nextId++,
      number: call.number,
      counter: call.counter,
      counterName: call.counterName || null,
      kind: call.kind || 'called',
      text: phrases.map(function (p) {
        return p.text;
      }).join(' / '),
      phrases: phrases,
      queuedAt: Date.now()
    };
    this.queue.push(item);
    this._dispatch('antre:announce-queued', item);
    // Defer so several calls in the same tick are all queued before the first
    // starts (keeps the order obvious in tests and logs).
    setTimeout(function () {
      self._pump();
    }, 0);
    return item;
  };

  /** Queue a live.js event if it is a call; returns the item or null. */
  AntreAnnouncer.prototype.announceEvent = function (ev, state) {
    if (!ev || (ev.type !== 'ticket.called' && ev.type !== 'ticket.recalled') || !ev.ticket) return null;
    var name = null;
    var counters = (state && state.counters) || [];
    for (var i = 0; i < counters.length; i++) {
      if (String(counters[i].id) === String(ev.counter)) name = counters[i].name;
    }
    return this.announce({
      number: ev.ticket.number,
      counter: ev.counter,
      counterName: name,
      kind: ev.type === 'ticket.recalled' ? 'recalled' : 'called'
    });
  };

  /**
   * Announce calls from the live transport's antre:event document events.
   * Calls replayed after an outage are shown on screen but not spoken: "A003
   * to counter 2" heard five minutes late misleads more than it helps. Until
   * the server's clock is known on the new connection, calls wait in `held`
   * and are judged by their age once it is (antre:clock).
   */
  AntreAnnouncer.prototype.connect = function () {
    var self = this;
    if (this._connected || !global.document) return this;
    this._connected = true;
    this.held = [];
    this.tooOld = [];
    global.document.addEventListener('antre:event', function (e) {
      var d = e.detail || {};
      var ev = d.event;
      if (!ev || (ev.type !== 'ticket.called' && ev.type !== 'ticket.recalled')) return;
      if (d.info && d.info.clockFresh === false) {
        self.held.push({ event: ev, state: d.state, live: d.live });
        return;
      }
      self._judge(ev, d.state, d.info ? d.info.age : null);
    });
    global.document.addEventListener('antre:clock', function (e) {
      var live = e.detail && e.detail.live;
      var held = self.held.splice(0);
      held.forEach(function (h) {
        var at = Date.parse(h.event.at || '');
        var age = live && !isNaN(at) ? Math.max(0, live.serverNow() - at) : null;
        self._judge(h.event, h.state, age);
      });
    });
    return this;
  };

  AntreAnnouncer.prototype._judge = function (ev, state, age) {
    if (age !== null && age !== undefined && age > this.options.maxEventAgeMs) {
      this.tooOld.push(ev.ticket ? ev.ticket.number : null);
      return null;
    }
    return this.announceEvent(ev, state);
  };

  AntreAnnouncer.prototype._pump = function () {
    if (this._busy || this.mode === 'loading' || this.blocked || !this.queue.length) return;
    if (!this._audioRunning()) {
      this._checkAutoplay(); // pumps again once audio runs
      return;
    }
    var item = this.queue.shift();
    var self = this;
    if (this.options.staleAfterMs && Date.now() - item.queuedAt > this.options.staleAfterMs) {
      item.skipped = 'stale';
      this.skipped.push(item);
      this._pump();
      return;
    }
    this._busy = true;
    this.current = item;
    item.startedAt = Date.now();
    safeCall(this.options.onStart, this, [item]);
    this._dispatch('antre:announce-start', item);
    this._playItem(item).then(done, done);
    function done() {
      if (self._speechRefused || !self._audioRunning()) {
        // Not heard (speech refused, or audio suspended mid-call): back to the
        // head of the queue; it plays again once sound is enabled.
        self._speechRefused = false;
        if (!self.blocked) self._setBlocked(true);
        self.current = null;
        self.queue.unshift(item);
        self._busy = false;
        return;
      }
      item.endedAt = Date.now();
      self.current = null;
      self.played.push(item.text);
      self.playedItems.push(item);
      safeCall(self.options.onEnd, self, [item]);
      self._dispatch('antre:announce-end', item);
      setTimeout(function () {
        self._busy = false;
        self._pump();
      }, self.options.callGapMs);
    }
  };

  AntreAnnouncer.prototype._playItem = function (item) {
    var self = this;
    var o = this.options;
    var chain = Promise.resolve();
    if (o.chime) {
      chain = chain.then(function () {
        return self._playChime();
      }).then(function () {
        return sleep(o.chimeGapMs);
      });
    }
    item.phrases.forEach(function (phrase, i) {
      chain = chain.then(function () {
        item.modes = item.modes || [];
        item.modes.push(self.modes[phrase.lang]);
        return i > 0 ? sleep(o.langGapMs) : null;
      }).then(function () {
        return self._playPhrase(phrase);
      });
    });
    return chain;
  };

  AntreAnnouncer.prototype._playChime = function () {
    var ctx = this._ctx;
    if (!ctx) return Promise.resolve();
    for (var i = 0; i < this.langs.length; i++) {
      var bufs = this._buffers[this.langs[i]];
      if (bufs && bufs.chime) return this._playBuffers([bufs.chime], 0);
    }
    return this._beep();
  };

  // Chime without clips: the shared lobby tune (chime.js), so speech mode still gets attention.
  AntreAnnouncer.prototype._beep = function () {
    var ms = global.AntreChime ? global.AntreChime.play('lobby', { ctx: this._ctx }) : 0;
    return ms ? sleep(ms + 50) : Promise.resolve();
  };

  AntreAnnouncer.prototype._playPhrase = function (phrase) {
    var self = this;
    var o = this.options;
    var mode = this.modes[phrase.lang];
    if (mode === 'speech') return this._speak(phrase.speech, phrase.lang);
    if (mode !== 'clips') return sleep(1500); // silent: keep the visual rhythm
    var bufs = this._buffers[phrase.lang];
    var chain = Promise.resolve();
    phrase.parts.forEach(function (part, i) {
      chain = chain.then(function () {
        if (part.tts) {
          return self._speechAvailable() ? self._speak(part.tts, phrase.lang) : null;
        }
        var list = [];
        for (var k = 0; k < part.clips.length; k++) {
          var b = bufs[part.clips[k]];
          // A missing letter clip (a prefix added later) costs only that letter.
          if (b) list.push(b);
        }
        return self._playBuffers(list, o.wordGapMs / 1000);
      }).then(function () {
        return i < phrase.parts.length - 1 ? sleep(o.partGapMs) : null;
      });
    });
    return chain;
  };

  // Schedule buffers back to back on the audio clock (no gaps from timers);
  // resolves when the last ends, or after a safety timeout, because a box
  // without a working audio device never fires `ended`.
  AntreAnnouncer.prototype._playBuffers = function (buffers, gapS) {
    var ctx = this._ctx;
    if (!ctx || !buffers.length) return Promise.resolve();
    var self = this;
    return new Promise(function (resolve) {
      var t = ctx.currentTime + 0.03;
      var total = 0;
      var last = null;
      var gain = ctx.createGain();
      gain.gain.value = self.options.volume;
      gain.connect(ctx.destination);
      buffers.forEach(function (buf, i) {
        var src = ctx.createBufferSource();
        src.buffer = buf;
        src.connect(gain);
        src.start(t);
        t += buf.duration + (i < buffers.length - 1 ? gapS : 0);
        total += buf.duration + gapS;
        last = src;
      });
      var finished = false;
      var finish = function () {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        resolve();
      };
      var timer = setTimeout(finish, total * 1000 + 1500);
      last.onended = finish;
    });
  };

  AntreAnnouncer.prototype._speak = function (text, lang) {
    var self = this;
    var synth = global.speechSynthesis;
    if (!synth || !global.SpeechSynthesisUtterance) return sleep(1500);
    var L = LANGS[lang] || LANGS.id;
    return new Promise(function (resolve) {
      var u = new global.SpeechSynthesisUtterance(text);
      u.lang = L.speechLang;
      var voices = synth.getVoices ? synth.getVoices() : [];
      for (var i = 0; i < voices.length; i++) {
        if (String(voices[i].lang).toLowerCase().indexOf(lang) === 0) {
          u.voice = voices[i];
          break;
        }
      }
      u.rate = 0.9;
      var done = false;
      var finish = function () {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve();
      };
      // Some engines never fire `end` (or have no voice at all).
      var timer = setTimeout(finish, 2000 + text.length * 120);
      u.onend = finish;
      u.onerror = function (e) {
        // Chrome refuses speech before any user gesture: keep the call queued
        // and show the enable-sound button instead of losing it.
        if (e && e.error === 'not-allowed') {
          self._speechRefused = true;
          self._setBlocked(true);
        }
        finish();
      };
      try {
        synth.speak(u);
      } catch (err) {
        finish();
      }
    });
  };

  AntreAnnouncer.prototype._dispatch = function (name, item) {
    var doc = global.document;
    if (!doc || typeof global.CustomEvent !== 'function') return;
    try {
      doc.dispatchEvent(new global.CustomEvent(name, { detail: item }));
    } catch (err) {
      /* a listener failed; the queue goes on */
    }
  };

  function sleep(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  function safeCall(fn, self, args) {
    if (typeof fn !== 'function') return;
    try {
      fn.apply(self, args);
    } catch (err) {
      if (global.console) global.console.error('AntreAnnouncer callback failed', err);
    }
  }

  AntreAnnouncer.buildPhrase = buildPhrase;
  AntreAnnouncer.numberWords = numberWords;
  AntreAnnouncer.LANGS = LANGS;
  AntreAnnouncer.DEFAULTS = DEFAULTS;

  global.AntreAnnouncer = AntreAnnouncer;
  if (typeof module === 'object' && module.exports) module.exports = AntreAnnouncer;

  function autoStart() {
    var el = global.document.querySelector('[data-announcer]');
    if (!el || global.antreAnnouncer) return;
    var langs = String(el.getAttribute('data-announcer') || 'id').split(',').map(function (s) {
      return s.trim();
    }).filter(Boolean);
    var opts = { langs: langs };
    if (el.getAttribute('data-audio-base')) opts.audioBase = el.getAttribute('data-audio-base');
    if (el.getAttribute('data-enable-label')) opts.enableLabel = el.getAttribute('data-enable-label');
    new AntreAnnouncer(opts).connect();
  }
  if (global.document && global.document.querySelector) {
    if (global.document.readyState === 'loading') {
      global.document.addEventListener('DOMContentLoaded', autoStart);
    } else {
      autoStart();
    }
  }
})(typeof window !== 'undefined' ? window : typeof globalThis !== 'undefined' ? globalThis : this);
