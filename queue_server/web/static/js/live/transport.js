/*
 * Antre live transport: keeps a screen in step with the office's event stream
 * (socket, resume with ?since=, backoff, offline banner, polling fallback).
 * The board rules it applies are pure and live apart: live/board.js (the
 * display board) and live/ticket.js (one ticket's view); load those first.
 *
 * Used by every live page (lobby display, entrance display, counter, door, and
 * the visitor's phone page). Plain ES2017, no modules and no build step, because
 * the lobby TVs are often old Android TV boxes with outdated WebViews.
 *
 * Why this exists instead of the htmx ws extension: the office Wi-Fi drops in and
 * out, so a screen must (1) apply events strictly in `seq` order, (2) notice a
 * lost event and resume with `?since=`, (3) say honestly that it is offline, and
 * (4) fall back to HTTP polling where WebSockets are blocked (some proxies and
 * hotspot phones do that). See docs/protocol.md for the frames.
 *
 * Usage:
 *   var live = new AntreLive({
 *     path: '/ws/display',                 // or '/ws/tickets/<token>'
 *     onSnapshot: function (state) {},      // whole state replaced
 *     onEvent: function (ev, state, info) {}, // one event applied; state already updated
 *     onStatus: function (status, detail) {} // 'connecting'|'live'|'polling'|'reconnecting'|'offline'|'gone'|'stopped'
 *   });
 *   live.start();
 *
 * Or without any page script: <body data-antre-live="/ws/display"> starts a
 * client on DOMContentLoaded; listen to the document events `antre:snapshot`,
 * `antre:event`, `antre:status` (detail mirrors the callback arguments).
 *
 * Tests read `window.antreLive` (the last client started): lastSeq, status,
 * stale, transport, state, stats {gaps, duplicates, ...}, appliedSeqs.
 */
(function (global) {
  'use strict';

  var DEFAULTS = {
    path: '/ws/display',
    kind: null, // 'display' | 'ticket'; guessed from path
    httpBase: null, // prefix for HTTP URLs; null = the page's office base path (<html data-base>)
    wsBase: null, // e.g. 'ws://127.0.0.1:8765'; null = derived from location
    snapshotUrl: undefined, // display: '/api/v1/state'; ticket: none (WS sends it)
    eventsUrl: '/api/v1/events',
    ticketUrl: null, // ticket kind: '/api/v1/tickets/<token>' (polling fallback)
    onSnapshot: null,
    onEvent: null,
    onStatus: null,
    reduce: null, // function (state, ev) -> state; default AntreBoard.reduce
    offlineAfterMs: 3000, // banner only after this long without a connection
    retryFirstMs: 500, // first reconnect well within 1 s
    retryFactor: 2,
    retryMaxMs: 10000, // never wait longer than this between tries
    retryJitter: 0.25, // spread reconnects so 30 screens do not hit at once
    connectTimeoutMs: 6000, // a half-open Wi-Fi link can hang the handshake
    failuresBeforePolling: 3, // WS opens that failed in a row, never connected
    pollIntervalMs: 2000,
    wsRetryWhilePollingMs: 30000, // keep trying WS occasionally while polling
    watchdogMs: undefined, // idle time before checking the socket is still alive
    requestTimeoutMs: 8000,
    bannerId: 'offline-banner',
    staleTarget: null, // element that gets data-stale / data-live-status; default <html>
    bind: true, // fill [data-bind="a.b"] elements from the state
    dispatch: true, // fire antre:* events on document
    expose: 'antreLive', // window property for tests; false to skip
    keepRecent: 10, // recent_calls / recent_admitted kept while applying events
    keepSeqLog: 200 // length of appliedSeqs (tests, debugging)
  };

  function now() {
    return Date.now();
  }

  function isObj(x) {
    return x !== null && typeof x === 'object' && !Array.isArray(x);
  }

  function safeCall(fn, self, args) {
    if (typeof fn !== 'function') return;
    try {
      fn.apply(self, args);
    } catch (err) {
      // A bug in one page's renderer must not kill the connection logic.
      if (global.console) global.console.error('AntreLive callback failed', err);
    }
  }

  /* ---------- the board rules live in live/board.js and live/ticket.js ---------- */

  var Board = global.AntreBoard;
  var TicketView = global.AntreTicketView;

  /* ---------- small helpers ---------- */

  function getPath(obj, path) {
    var parts = String(path).split('.');
    var cur = obj;
    for (var i = 0; i < parts.length; i++) {
      if (cur === null || cur === undefined) return undefined;
      cur = cur[parts[i]];
    }
    return cur;
  }

  function fetchJson(url, timeoutMs) {
    // Resolves {status, body, date} for any HTTP answer; rejects on network
    // failure or timeout (both mean "no connection").
    var ctrl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = null;
    var timeout = new Promise(function (_, reject) {
      timer = setTimeout(function () {
        if (ctrl) ctrl.abort();
        reject(new Error('timeout'));
      }, timeoutMs);
    });
    var req = fetch(url, {
      cache: 'no-store',
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
      signal: ctrl ? ctrl.signal : undefined
    }).then(function (res) {
      var date = res.headers.get('Date');
      return res.text().then(function (text) {
        var body = null;
        try {
          body = text ? JSON.parse(text) : null;
        } catch (e) {
          body = null;
        }
        return { status: res.status, body: body, date: date };
      });
    });
    return Promise.race([req, timeout]).then(
      function (r) {
        clearTimeout(timer);
        return r;
      },
      function (err) {
        clearTimeout(timer);
        throw err;
      }
    );
  }

  /* ---------- the client ---------- */

  function AntreLive(options) {
    var o = Object.assign({}, DEFAULTS, options || {});
    this.options = o;
    this.path = o.path;
    this.kind = o.kind || (/^\/ws\/tickets\//.test(o.path) ? 'ticket' : 'display');
    if (this.kind === 'ticket') {
      var token = o.path.split('?')[0].split('/').pop();
      this.token = token;
      this.ticketUrl = o.ticketUrl || '/api/v1/tickets/' + encodeURIComponent(token);
      this.snapshotUrl = o.snapshotUrl === undefined ? null : o.snapshotUrl;
      this.watchdogMs = o.watchdogMs === undefined ? 60000 : o.watchdogMs;
    } else {
      this.snapshotUrl = o.snapshotUrl === undefined ? '/api/v1/state' : o.snapshotUrl;
      this.watchdogMs = o.watchdogMs === undefined ? 25000 : o.watchdogMs;
    }

    // Public, read-only for pages and tests.
    this.state = null;
    this.lastSeq = null;
    this.status = 'idle';
    this.stale = false;
    this.connected = false;
    this.transport = null; // 'ws' | 'poll' | null
    this.polling = false;
    this.running = false;
    this.appliedSeqs = [];
    this.stats = {
      snapshots: 0,
      applied: 0,
      duplicates: 0,
      gaps: 0,
      reconnects: 0,
      wsOpens: 0,
      wsFailures: 0,
      consecutiveWsFailures: 0,
      polls: 0,
      pollFailures: 0,
      watchdogProbes: 0
    };

    this._ws = null;
    this._wsGen = 0;
    this._pollGen = 0;
    this._attempt = 0;
    this._pollAttempt = 0;
    this._lastPollFailed = false;
    this._lastFrameAt = 0;
    this._lastGapAt = 0;
    this._skew = null; // local clock minus server clock, ms
    this._clockAt = 0; // local time the skew was last measured from a Date header (0: not since connecting)
    this._timers = {};
    this._onOnline = this._wake.bind(this, 'online');
    this._onVisible = this._onVisibility.bind(this);
  }

  AntreLive.prototype._setTimer = function (name, ms, fn) {
    this._clearTimer(name);
    var self = this;
    this._timers[name] = setTimeout(function () {
      self._timers[name] = null;
      fn.call(self);
    }, ms);
  };

  AntreLive.prototype._clearTimer = function (name) {
    if (this._timers[name]) {
      clearTimeout(this._timers[name]);
      this._timers[name] = null;
    }
  };

  AntreLive.prototype._base = function () {
    if (this.options.httpBase !== null && this.options.httpBase !== undefined) return this.options.httpBase;
    var root = global.document && global.document.documentElement;
    return (root && root.getAttribute('data-base')) || '';
  };

  AntreLive.prototype._url = function (path) {
    return this._base() + path;
  };

  AntreLive.prototype._wsUrl = function () {
    var base = this.options.wsBase;
    if (!base) {
      var loc = global.location;
      base = (loc.protocol === 'https:' ? 'wss://' : 'ws://') + loc.host + this._base();
    }
    var url = base + this.path;
    // The office stream resumes from the seq; the ticket socket always answers with a whole
    // snapshot, but not an older one than this phone saw (a worker that lags waits first).
    if (this.lastSeq !== null) {
      url += (url.indexOf('?') >= 0 ? '&' : '?') + 'since=' + this.lastSeq;
    }
    return url;
  };

  AntreLive.prototype.backoffMs = function (attempt) {
    var o = this.options;
    var base = Math.min(o.retryMaxMs, o.retryFirstMs * Math.pow(o.retryFactor, attempt));
    // Jitter only shortens the wait, so the first retry stays under 1 s and
    // no wait exceeds retryMaxMs.
    return Math.round(base * (1 - o.retryJitter * Math.random()));
  };

  /** Start (or restart after stop()). Returns this. */
  AntreLive.prototype.start = function () {
    if (this.running) return this;
    this.running = true;
    if (this.options.expose && global) global[this.options.expose] = this;
    this._setStatus('connecting');
    this._armOffline();
    if (global.addEventListener) global.addEventListener('online', this._onOnline);
    if (global.document && global.document.addEventListener) {
      global.document.addEventListener('visibilitychange', this._onVisible);
    }
    this._scheduleWatchdog();
    var self = this;
    if (this.snapshotUrl) {
      // Snapshot over HTTP first so the screen fills even before the socket
      // opens; then the socket resumes from its seq.
      var gen = this._wsGen;
      fetchJson(this._url(this.snapshotUrl), this.options.requestTimeoutMs).then(
        function (r) {
          if (!self.running || gen !== self._wsGen) return;
          if (r.status === 200 && isObj(r.body) && typeof r.body.seq === 'number') {
            self._noteDateHeader(r.date);
            if (self.lastSeq === null) self._applySnapshot(r.body);
          }
          self._openWs();
        },
        function () {
          if (self.running && gen === self._wsGen) self._openWs();
        }
      );
    } else {
      this._openWs();
    }
    return this;
  };

  /** Stop everything; the page keeps its last state. */
  AntreLive.prototype.stop = function () {
    this.running = false;
    this._closeWs(1000, 'stop');
    this._stopPolling();
    for (var k in this._timers) this._clearTimer(k);
    if (global.removeEventListener) global.removeEventListener('online', this._onOnline);
    if (global.document && global.document.removeEventListener) {
      global.document.removeEventListener('visibilitychange', this._onVisible);
    }
    this.connected = false;
    this.transport = null;
    this._setStatus('stopped');
  };

  /** Drop the current connection and connect again now (resumes from lastSeq). */
  AntreLive.prototype.reconnect = function (reason) {
    if (!this.running) return;
    this.stats.reconnects++;
    this._closeWs(1000, reason || 'reconnect');
    this._markDisconnected();
    if (this.polling) this._pollNow();
    else this._openWs();
  };

  /** Best estimate of the server's clock, ms since epoch (for "age" of events). */
  AntreLive.prototype.serverNow = function () {
    return now() - (this._skew || 0);
  };

  /* ----- WebSocket ----- */

  AntreLive.prototype._openWs = function () {
    if (!this.running) return;
    this._clearTimer('ws');
    this._closeWs(1000, 'replaced');
    var self = this;
    var gen = ++this._wsGen;
    var opened = false;
    var openedAt = 0;
    var ws;
    try {
      ws = new WebSocket(this._wsUrl());
    } catch (err) {
      // Bad URL or the browser refused: same as a failed open.
      this._wsFailed();
      return;
    }
    this._ws = ws;
    this._setTimer('connect', this.options.connectTimeoutMs, function () {
      if (gen === self._wsGen && !opened) {
        self._closeWs(1000, 'connect timeout');
        self._wsFailed();
      }
    });
    ws.onopen = function () {
      if (gen !== self._wsGen) return;
      opened = true;
      openedAt = now();
      self._clearTimer('connect');
      self.stats.wsOpens++;
      self.stats.consecutiveWsFailures = 0;
      self._lastFrameAt = now();
      if (self.polling) self._stopPolling();
      if (self.kind === 'display') self._measureClock();
      self._markConnected('ws');
    };
    ws.onmessage = function (e) {
      if (gen !== self._wsGen) return;
      self._lastFrameAt = now();
      var msg;
      try {
        msg = JSON.parse(e.data);
      } catch (err) {
        return; // not ours; never let a bad frame break the stream
      }
      self._handleFrame(msg, 'ws');
    };
    ws.onerror = function () {
      // onclose always follows; all handling happens there.
    };
    ws.onclose = function (e) {
      if (gen !== self._wsGen) return;
      self._ws = null;
      self._clearTimer('connect');
      if (!opened) {
        self._wsFailed();
        return;
      }
      if (now() - openedAt > 5000) self._attempt = 0; // it was a good connection
      self._afterClose(e.code);
    };
  };

  AntreLive.prototype._closeWs = function (code, reason) {
    var ws = this._ws;
    this._ws = null;
    this._wsGen++; // whatever that socket still reports is ignored
    this._clearTimer('connect');
    if (ws) {
      try {
        ws.close(code || 1000, reason || '');
      } catch (err) {
        /* already closing */
      }
    }
  };

  AntreLive.prototype._wsFailed = function () {
    this.stats.wsFailures++;
    this.stats.consecutiveWsFailures++;
    this._afterClose(null);
  };

  AntreLive.prototype._afterClose = function (code) {
    if (!this.running) return;
    if (code === 4404) {
      this._gone();
      return;
    }
    if (this.transport === 'ws') this._markDisconnected();
    if (this.polling) {
      // We are on the fallback already; this was an occasional WS try.
      this._setTimer('ws', this.options.wsRetryWhilePollingMs, this._openWs);
      return;
    }
    if (this.stats.consecutiveWsFailures >= this.options.failuresBeforePolling) {
      this._startPolling();
      return;
    }
    var delay;
    if (code === 4000) delay = 0; // server says we fell behind: resume at once
    else delay = this.backoffMs(this._attempt++);
    this.stats.reconnects++;
    this._setTimer('ws', delay, this._openWs);
  };

  AntreLive.prototype._gone = function () {
    // Unknown ticket (4404) or equivalent: retrying cannot help.
    this._closeWs(1000, 'gone');
    this._stopPolling();
    for (var k in this._timers) this._clearTimer(k);
    this.running = false;
    this.connected = false;
    this.transport = null;
    this._setStale(false);
    this._setStatus('gone');
  };

  /* ----- frames ----- */

  // Returns false when the frame revealed a gap (the caller stops applying).
  AntreLive.prototype._handleFrame = function (msg, via) {
    if (!isObj(msg)) return true;
    if (msg.type === 'snapshot') {
      this._applySnapshot(msg);
      return true;
    }
    if (typeof msg.seq !== 'number') return true; // not an office event
    if (this.lastSeq === null) {
      // An event without a base state cannot be applied; get a snapshot.
      this._resync('no snapshot', via);
      return false;
    }
    if (msg.seq <= this.lastSeq) {
      this.stats.duplicates++;
      return true;
    }
    if (this.kind === 'display' && msg.seq > this.lastSeq + 1) {
      // Ticket frames skip seqs by design (only events that touch the ticket);
      // office events never do, so a jump means we lost some.
      this.stats.gaps++;
      this._resync('gap', via);
      return false;
    }
    this._applyEvent(msg, via);
    return true;
  };

  AntreLive.prototype._resync = function (reason, via) {
    this.stats.reconnects++;
    if (via === 'poll' || this.polling) {
      this._pollNow();
      return;
    }
    // Resume at once the first time; if gaps keep coming, back off so a
    // misbehaving server is not hammered.
    var t = now();
    var delay = t - this._lastGapAt > 2000 ? 0 : this.backoffMs(this._attempt++);
    this._lastGapAt = t;
    this._closeWs(1000, reason);
    if (this.transport === 'ws') this._markDisconnected();
    this._setTimer('ws', delay, this._openWs);
  };

  AntreLive.prototype._applySnapshot = function (snap) {
    var seq = typeof snap.seq === 'number' ? snap.seq : this.lastSeq;
    if (this.kind === 'ticket') {
      this.state = { seq: seq, ticket: snap.ticket || null, last_type: 'snapshot' };
    } else {
      this.state = Board.fromSnapshot(snap);
      this.state.seq = seq;
    }
    // A snapshot is authoritative even if its seq is lower (e.g. the server's
    // database was replaced); events are then counted from it.
    this.lastSeq = seq;
    this.stats.snapshots++;
    this._log(seq);
    safeCall(this.options.onSnapshot, this, [this.state]);
    this._dispatch('antre:snapshot', { state: this.state, live: this });
    this._bind();
  };

  AntreLive.prototype._applyEvent = function (ev, via) {
    var reduce = this.options.reduce || (this.kind === 'ticket' ? TicketView.reduce : Board.reduce);
    this.state = reduce(this.state || {}, ev, this.options.keepRecent) || this.state;
    this.lastSeq = ev.seq;
    this.stats.applied++;
    this._log(ev.seq);
    var info = { via: via, age: this._eventAge(ev), clockFresh: this.clockFresh() };
    safeCall(this.options.onEvent, this, [ev, this.state, info]);
    this._dispatch('antre:event', { event: ev, state: this.state, info: info, live: this });
    this._bind();
  };

  AntreLive.prototype._log = function (seq) {
    this.appliedSeqs.push(seq);
    if (this.appliedSeqs.length > this.options.keepSeqLog) this.appliedSeqs.shift();
  };

  AntreLive.prototype._noteDateHeader = function (date) {
    var t = date ? Date.parse(date) : NaN;
    if (isNaN(t)) return;
    // The Date header has 1 s resolution: assume the middle of that second. A new
    // measurement replaces the old one: the TV's own clock may have been set
    // (NTP after the Wi-Fi came back) while it was offline.
    this._skew = now() - (t + 500);
    this._clockAt = now();
    this._dispatch('antre:clock', { skew: this._skew, live: this });
  };

  /** True when the server's time is known from this connection (so event ages can be trusted). */
  AntreLive.prototype.clockFresh = function () {
    return this._clockAt > 0;
  };

  // How old an event is, in ms, by the server's clock: used so a resume burst
  // after an outage is not announced as if it were happening now. An event can
  // only prove the server's clock is later than we thought, never earlier: so
  // the oldest event of a burst can never pass for "now".
  AntreLive.prototype._eventAge = function (ev) {
    var at = ev.at ? Date.parse(ev.at) : NaN;
    if (isNaN(at)) return null;
    var skew = now() - at;
    if (this._skew === null) return null;
    if (skew < this._skew) this._skew = skew;
    return Math.max(0, skew - this._skew);
  };

  // After a (re)connection the clock is measured again before event ages count.
  AntreLive.prototype._measureClock = function () {
    var self = this;
    this._clockAt = 0;
    fetchJson(this._url('/healthz'), this.options.requestTimeoutMs).then(function (r) {
      if (self.running) self._noteDateHeader(r.date);
    }, function () {});
  };

  /* ----- polling fallback ----- */

  AntreLive.prototype._startPolling = function () {
    if (this.polling) return;
    this.polling = true;
    this._pollAttempt = 0;
    this._pollNow();
    this._setTimer('ws', this.options.wsRetryWhilePollingMs, this._openWs);
  };

  AntreLive.prototype._stopPolling = function () {
    this.polling = false;
    this._pollGen++;
    this._clearTimer('poll');
    if (this.transport === 'poll') this.transport = null;
  };

  AntreLive.prototype._pollNow = function () {
    if (!this.running || !this.polling) return;
    this._clearTimer('poll');
    var self = this;
    var gen = ++this._pollGen;
    var url;
    if (this.kind === 'ticket') url = this.ticketUrl;
    else if (this.lastSeq === null) url = this.snapshotUrl || this.options.eventsUrl + '?since=0';
    else url = this.options.eventsUrl + '?since=' + this.lastSeq;
    this.stats.polls++;
    fetchJson(this._url(url), this.options.requestTimeoutMs).then(
      function (r) {
        if (gen !== self._pollGen || !self.running) return;
        self._onPollAnswer(r);
      },
      function () {
        if (gen !== self._pollGen || !self.running) return;
        self._onPollFailed();
      }
    );
  };

  AntreLive.prototype._onPollFailed = function () {
    this.stats.pollFailures++;
    this._lastPollFailed = true;
    if (this.transport === 'poll') this._markDisconnected();
    this._setTimer('poll', this.backoffMs(this._pollAttempt++), this._pollNow);
  };

  AntreLive.prototype._onPollAnswer = function (r) {
    if (this.kind === 'ticket' && r.status === 404) {
      this._gone();
      return;
    }
    if (r.status !== 200 || !isObj(r.body)) {
      this._onPollFailed();
      return;
    }
    var recovered = this._lastPollFailed;
    this._lastPollFailed = false;
    this._pollAttempt = 0;
    this._noteDateHeader(r.date);
    if (!this.connected || this.transport !== 'ws') this._markConnected('poll');
    var again = false;
    var body = r.body;
    if (this.kind === 'ticket') {
      var old = this.state && this.state.ticket;
      if (!old || JSON.stringify(old) !== JSON.stringify(body)) {
        this._applySnapshot({ type: 'snapshot', seq: this.lastSeq, ticket: body });
      }
    } else if (Array.isArray(body.events) || isObj(body.snapshot)) {
      if (isObj(body.snapshot)) this._applySnapshot(Object.assign({ type: 'snapshot' }, body.snapshot));
      var events = body.events || [];
      for (var i = 0; i < events.length; i++) {
        if (!this._handleFrame(events[i], 'poll')) return; // resync already asked
      }
      if (typeof body.seq === 'number' && this.lastSeq !== null) {
        if (body.seq > this.lastSeq && events.length) again = true; // more than one page
        else if (body.seq < this.lastSeq) this.lastSeq = null; // server went back: new snapshot
      }
      if (this.lastSeq === null) again = true;
    } else if (typeof body.seq === 'number') {
      this._applySnapshot(body); // GET /api/v1/state answer
    }
    if (recovered) {
      // The server was unreachable, not necessarily WS: try the socket now.
      this._setTimer('ws', 0, this._openWs);
    }
    this._setTimer('poll', again ? 0 : this.options.pollIntervalMs, this._pollNow);
  };

  /* ----- watchdog: a socket on flaky Wi-Fi can die without a close event ----- */

  AntreLive.prototype._scheduleWatchdog = function () {
    if (!this.watchdogMs) return;
    this._setTimer('watchdog', this.watchdogMs, this._watchdog);
  };

  AntreLive.prototype._watchdog = function () {
    if (!this.running) return;
    var idle = now() - this._lastFrameAt;
    if (this.transport !== 'ws' || idle < this.watchdogMs || !this._ws) {
      this._scheduleWatchdog();
      return;
    }
    var self = this;
    var seqBefore = this.lastSeq;
    var gen = this._wsGen;
    var url = this.kind === 'ticket' ? this.ticketUrl : this.options.eventsUrl + '?since=' + seqBefore;
    this.stats.watchdogProbes++;
    fetchJson(this._url(url), this.options.requestTimeoutMs).then(
      function (r) {
        if (!self.running) return;
        if (gen === self._wsGen && self._lastFrameAt < now() - self.watchdogMs) {
          if (self.kind === 'ticket') {
            if (r.status === 200 && isObj(r.body) && self.state &&
                JSON.stringify(r.body) !== JSON.stringify(self.state.ticket)) {
              self.reconnect('watchdog'); // the socket missed a change
            }
          } else if (r.status === 200 && isObj(r.body) && typeof r.body.seq === 'number' &&
                     r.body.seq > seqBefore && self.lastSeq === seqBefore) {
            self.reconnect('watchdog'); // events exist that the socket never brought
          }
        }
        self._scheduleWatchdog();
      },
      function () {
        // HTTP to the same server failed too: the link is down, the socket
        // just has not noticed. Reconnect instead of showing frozen data.
        if (!self.running) return;
        if (gen === self._wsGen) self.reconnect('watchdog');
        self._scheduleWatchdog();
      }
    );
  };

  AntreLive.prototype._wake = function () {
    // Network came back or the tab became visible: do not wait out a backoff.
    if (!this.running || this.connected) return;
    if (this.polling) this._pollNow();
    else if (this._timers.ws) this._setTimer('ws', 0, this._openWs);
  };

  AntreLive.prototype._onVisibility = function () {
    if (global.document && global.document.visibilityState === 'visible') this._wake('visible');
  };

  /* ----- connection state, banner, stale marking ----- */

  AntreLive.prototype._markConnected = function (via) {
    this.connected = true;
    this.transport = via;
    this._clearTimer('offline');
    this._setStale(false);
    this._setStatus(via === 'ws' ? 'live' : 'polling');
  };

  AntreLive.prototype._markDisconnected = function () {
    var wasConnected = this.connected;
    this.connected = false;
    this.transport = null;
    if (wasConnected || this.status === 'connecting') {
      if (this.status !== 'offline') this._setStatus('reconnecting');
    }
    this._armOffline();
  };

  AntreLive.prototype._armOffline = function () {
    if (this._timers.offline || this.stale) return;
    this._setTimer('offline', this.options.offlineAfterMs, function () {
      if (this.connected || !this.running) return;
      this._setStale(true);
      this._setStatus('offline');
    });
  };

  AntreLive.prototype._setStale = function (stale) {
    this.stale = stale;
    var doc = global.document;
    if (!doc) return;
    var banner = this.options.bannerId ? doc.getElementById(this.options.bannerId) : null;
    if (banner) banner.hidden = !stale;
    var target = this.options.staleTarget || doc.documentElement;
    if (target) {
      target.setAttribute('data-stale', stale ? 'true' : 'false');
      if (target.classList) target.classList.toggle('is-stale', stale);
    }
  };

  AntreLive.prototype._setStatus = function (status) {
    if (this.status === status) return;
    this.status = status;
    var doc = global.document;
    var target = this.options.staleTarget || (doc && doc.documentElement);
    if (target) target.setAttribute('data-live-status', status);
    var detail = {
      status: status,
      stale: this.stale,
      transport: this.transport,
      lastSeq: this.lastSeq,
      live: this
    };
    safeCall(this.options.onStatus, this, [status, detail]);
    this._dispatch('antre:status', detail);
  };

  AntreLive.prototype._dispatch = function (name, detail) {
    var doc = global.document;
    if (!this.options.dispatch || !doc || typeof global.CustomEvent !== 'function') return;
    try {
      doc.dispatchEvent(new global.CustomEvent(name, { detail: detail }));
    } catch (err) {
      if (global.console) global.console.error('AntreLive listener failed', err);
    }
  };

  // Fill simple text slots without page code: <b data-bind="occupancy.inside">.
  AntreLive.prototype._bind = function () {
    var doc = global.document;
    if (!this.options.bind || !doc || !doc.querySelectorAll || !this.state) return;
    var els = doc.querySelectorAll('[data-bind]');
    for (var i = 0; i < els.length; i++) {
      var v = getPath(this.state, els[i].getAttribute('data-bind'));
      var text = v === null || v === undefined ? (els[i].getAttribute('data-bind-empty') || '') : String(v);
      if (els[i].textContent !== text) els[i].textContent = text;
    }
  };

  /* ---------- messages (display/messages/<lang>.json) ---------- */

  var messages = null;

  /**
   * Translate a catalog key, filling {name} placeholders. The page embeds its
   * catalog as <script type="application/json" id="antre-messages">{...}</script>
   * (a data block, not executed, so the CSP allows it) or sets it with
   * AntreLive.setMessages(obj). Unknown keys come back as the key itself, so a
   * missing text is visible instead of blank.
   */
  function t(key, params) {
    if (!messages) {
      messages = {};
      var doc = global.document;
      var el = doc && doc.getElementById ? doc.getElementById('antre-messages') : null;
      if (el) {
        try {
          messages = JSON.parse(el.textContent) || {};
        } catch (err) {
          messages = {};
        }
      }
    }
    var text = Object.prototype.hasOwnProperty.call(messages, key) ? messages[key] : key;
    return String(text).replace(/\{(\w+)\}/g, function (m, name) {
      return params && params[name] !== undefined && params[name] !== null ? String(params[name]) : m;
    });
  }

  /* ---------- exports ---------- */

  AntreLive.t = t;
  AntreLive.setMessages = function (obj) {
    messages = obj || {};
  };

  AntreLive.reduce = Board.reduce;
  AntreLive.reduceTicket = TicketView.reduce;
  AntreLive.normalizeSnapshot = Board.fromSnapshot;
  AntreLive.getPath = getPath;
  AntreLive.DEFAULTS = DEFAULTS;
  AntreLive.version = '1';

  /** Start a client from data- attributes of an element (see top of file). */
  AntreLive.fromElement = function (el, extra) {
    var d = el.dataset || {};
    var opts = { path: d.antreLive || DEFAULTS.path };
    if (d.antreSnapshotUrl) opts.snapshotUrl = d.antreSnapshotUrl;
    if (d.antreEventsUrl) opts.eventsUrl = d.antreEventsUrl;
    if (d.antrePollMs) opts.pollIntervalMs = Number(d.antrePollMs);
    if (d.antreBanner) opts.bannerId = d.antreBanner;
    return new AntreLive(Object.assign(opts, extra || {})).start();
  };

  global.AntreLive = AntreLive;
  if (typeof module === 'object' && module.exports) module.exports = AntreLive;

  function autoStart() {
    var el = global.document.querySelector('[data-antre-live]');
    if (el && !global.antreLive) AntreLive.fromElement(el);
  }
  if (global.document && global.document.querySelector) {
    if (global.document.readyState === 'loading') {
      global.document.addEventListener('DOMContentLoaded', autoStart);
    } else {
      // Defer a tick so page scripts loaded right after this one can attach
      // their antre:* listeners before the first snapshot arrives.
      setTimeout(autoStart, 0);
    }
  }
})(typeof window !== 'undefined' ? window : typeof globalThis !== 'undefined' ? globalThis : this);
