/*
 * Shared helpers for the page scripts (window.Antre): messages, the page's
 * data, JSON requests with CSRF and idempotency keys, the ticket card filler
 * and the clock. Plain ES2017 without modules (old TV and kiosk WebViews).
 *
 * The server renders two JSON data blocks into every page:
 *   #antre-messages  the flat message catalog of the page's language
 *   #antre-page      {page, lang, office, services, counters, ...page extras}
 */
(function (global) {
  'use strict';

  var doc = global.document;

  function readJson(id) {
    var el = doc.getElementById(id);
    if (!el) return null;
    try {
      return JSON.parse(el.textContent || 'null');
    } catch (err) {
      return null;
    }
  }

  var messages = readJson('antre-messages') || {};
  var page = readJson('antre-page') || {};
  var missing = {};

  function fill(text, params) {
    if (!params) return text;
    return text.replace(/\{([a-zA-Z_][a-zA-Z0-9_]*)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
    });
  }

  /** The message for key in the page's language; the key itself when missing (visible, testable). */
  function msg(key, params) {
    var text = messages[key];
    if (text === undefined) {
      if (!missing[key] && global.console) global.console.warn('missing message', key);
      missing[key] = true;
      return key;
    }
    return fill(text, params);
  }

  function has(key) {
    return Object.prototype.hasOwnProperty.call(messages, key);
  }

  function byId(id) {
    return doc.getElementById(id);
  }

  function setText(el, text) {
    if (!el) return;
    text = text === null || text === undefined ? '' : String(text);
    if (el.textContent !== text) el.textContent = text;
  }

  function show(el, visible) {
    if (el) el.hidden = !visible;
  }

  /** Make an element with a class and text; never parses HTML (ticket data is not trusted markup). */
  function make(tag, className, text) {
    var el = doc.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = String(text);
    return el;
  }

  function clear(el) {
    while (el && el.firstChild) el.removeChild(el.firstChild);
  }

  /* ---------- requests ---------- */

  // crypto.randomUUID needs a secure context; office LANs serve plain http.
  function newKey() {
    var bytes = new Uint8Array(16);
    if (global.crypto && global.crypto.getRandomValues) {
      global.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    var hex = '';
    for (var j = 0; j < bytes.length; j++) hex += (bytes[j] < 16 ? '0' : '') + bytes[j].toString(16);
    return hex;
  }

  /**
   * The path this office is served under: '' for one office, '/o/<id>' on a regency deployment
   * (docs/protocol.md). Every URL the pages build goes through here.
   */
  function base() {
    return doc.documentElement.getAttribute('data-base') || '';
  }

  function at(path) {
    return path.charAt(0) === '/' && path.indexOf(base() + '/') !== 0 ? base() + path : path;
  }

  function csrfToken() {
    var meta = doc.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

  /**
   * One JSON request. Resolves {status, body} for every HTTP answer; rejects
   * on a network failure or timeout. opts: {key: Idempotency-Key, timeoutMs}.
   */
  function request(method, url, body, opts) {
    opts = opts || {};
    var headers = { Accept: 'application/json' };
    if (body !== undefined && body !== null) headers['Content-Type'] = 'application/json';
    var csrf = csrfToken();
    if (csrf && method !== 'GET') headers['X-CSRF-Token'] = csrf;
    if (opts.key) headers['Idempotency-Key'] = opts.key;
    var ctrl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = null;
    var timeout = new Promise(function (_, reject) {
      timer = setTimeout(function () {
        if (ctrl) ctrl.abort();
        reject(new Error('timeout'));
      }, opts.timeoutMs || 8000);
    });
    var sent = fetch(at(url), {
      method: method,
      headers: headers,
      body: body !== undefined && body !== null ? JSON.stringify(body) : undefined,
      credentials: 'same-origin',
      cache: 'no-store',
      signal: ctrl ? ctrl.signal : undefined
    }).then(function (res) {
      return res.text().then(function (text) {
        var parsed = null;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch (err) {
          parsed = null;
        }
        return { status: res.status, body: parsed, headers: res.headers };
      });
    });
    return Promise.race([sent, timeout]).then(
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

  /**
   * request() that retries network failures and 502/503/504 with the SAME
   * idempotency key, so a press that reached the server once acts once.
   */
  function send(method, url, body, opts) {
    opts = opts || {};
    var retries = opts.retries || 0;
    var delays = [400, 1000, 2000, 4000];
    var attempt = 0;
    function once() {
      return request(method, url, body, opts).then(
        function (res) {
          if ((res.status === 502 || res.status === 503 || res.status === 504) && attempt < retries) {
            return later();
          }
          return res;
        },
        function (err) {
          if (attempt < retries) return later();
          throw err;
        }
      );
    }
    function later() {
      var wait = delays[Math.min(attempt, delays.length - 1)];
      attempt++;
      return new Promise(function (resolve) {
        setTimeout(resolve, wait);
      }).then(once);
    }
    return once();
  }

  /**
   * A message for a failed request: the catalog's text for the error code, its {placeholders}
   * filled from the error's details; else the server's own message (which the server words in the
   * visitor's language); else a generic one. A text with a placeholder the details do not fill is
   * never shown ("Nomor {number}"): the server's message says it whole.
   */
  function errorText(res) {
    if (!res) return msg('error.network');
    var err = res.body && res.body.error;
    var code = err && err.code;
    if (code && has('error.' + code)) {
      var text = fill(messages['error.' + code], err.details || {});
      if (!/\{[a-zA-Z_][a-zA-Z0-9_]*\}/.test(text) || !err.message) return text;
    }
    if (err && err.message) return err.message;
    return msg('common.error_generic');
  }

  /* ---------- office data ---------- */

  function serviceById(id) {
    var list = page.services || [];
    for (var i = 0; i < list.length; i++) if (list[i].id === id) return list[i];
    return null;
  }

  function serviceName(id) {
    var s = serviceById(id);
    return s ? s.name : id;
  }

  function counterName(id, state) {
    var lists = [(state && state.counters) || [], page.counters || []];
    for (var k = 0; k < lists.length; k++) {
      for (var i = 0; i < lists[k].length; i++) {
        if (String(lists[k][i].id) === String(id)) return lists[k][i].name;
      }
    }
    return msg('common.counter_n', { counter: id });
  }

  /** config.changed brings the full new lists; keep the page's copy in step. */
  function updateConfig(ev) {
    if (ev && ev.type === 'config.changed') {
      if (Array.isArray(ev.services)) page.services = ev.services;
      if (Array.isArray(ev.counters)) page.counters = ev.counters;
    }
  }

  // "2026-11-27T08:03:12+08:00" -> "08:03": the office's local time as the
  // server wrote it, whatever time zone the kiosk's own clock is set to.
  function timeOf(iso) {
    return typeof iso === 'string' && iso.length >= 16 ? iso.slice(11, 16) : '';
  }

  function minutesText(minutes) {
    return minutes === null || minutes === undefined ? '–' : msg('ticket.wait_value', { minutes: minutes });
  }

  /** "Anda berikutnya" / "sekitar 10-15 menit" (live/ticket.js has the rule). */
  function waitText(ticket) {
    return global.AntreTicketView.waitText(ticket, msg);
  }

  /* ---------- the ticket card (kiosk, door) ---------- */

  /** Fill every [data-field] under root from a ticket view (token only for the QR link). */
  function fillTicket(root, ticket, token) {
    if (!root || !ticket) return;
    function each(field, fn) {
      var els = root.querySelectorAll('[data-field="' + field + '"]');
      for (var i = 0; i < els.length; i++) fn(els[i]);
    }
    root.setAttribute('data-status', ticket.status || '');
    each('number', function (el) {
      setText(el, ticket.number);
    });
    each('service', function (el) {
      setText(el, serviceName(ticket.service));
    });
    each('position', function (el) {
      setText(el, ticket.position ? String(ticket.position) : '–');
    });
    each('wait', function (el) {
      setText(el, waitText(ticket));
    });
    each('party', function (el) {
      setText(el, msg('common.people', { n: ticket.party_size || 1 }));
    });
    each('party-box', function (el) {
      show(el, (ticket.party_size || 1) > 1);
    });
    each('issued', function (el) {
      setText(el, msg('kiosk.issued_at', { time: timeOf(ticket.issued_at) }));
    });
    each('admission', function (el) {
      var outside = ticket.status === 'outside';
      var text = outside ? msg('kiosk.wait_outside') : ticket.status === 'waiting'
        ? msg('kiosk.come_in') : msg('common.status.' + ticket.status);
      setText(el, text);
      el.classList.toggle('admission-out', outside);
      el.classList.toggle('admission-in', !outside);
    });
    each('qr', function (el) {
      if (token) el.setAttribute('src', at('/t/' + encodeURIComponent(token) + '/qr.svg'));
    });
  }

  /* ---------- clock, toast ---------- */

  function startClock(els, live) {
    var fmt = null;
    try {
      fmt = new Intl.DateTimeFormat(page.lang === 'en' ? 'en-GB' : 'id-ID', {
        hour: '2-digit',
        minute: '2-digit',
        hour12: false,
        timeZone: page.office && page.office.timezone
      });
    } catch (err) {
      fmt = null; // an old WebView without time zone data: show the device's time
    }
    function tick() {
      var t = live && live.serverNow ? live.serverNow() : Date.now();
      var d = new Date(t);
      var text = fmt ? fmt.format(d).replace('.', ':')
        : (d.getHours() < 10 ? '0' : '') + d.getHours() + ':' + (d.getMinutes() < 10 ? '0' : '') + d.getMinutes();
      for (var i = 0; i < els.length; i++) setText(els[i], text);
    }
    tick();
    return setInterval(tick, 1000);
  }

  var toastTimer = null;

  function toast(text, isError) {
    var el = byId('toast');
    if (!el) {
      el = make('div', 'toast');
      el.id = 'toast';
      el.setAttribute('role', 'status');
      doc.body.appendChild(el);
    }
    setText(el, text);
    el.classList.toggle('toast-error', !!isError);
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () {
      el.hidden = true;
    }, isError ? 6000 : 3000);
  }

  /** A live client for the office stream with the page's usual options. */
  function startLive(options) {
    var live = new global.AntreLive(Object.assign({ path: '/ws/display' }, options || {}));
    live.start();
    var clocks = doc.querySelectorAll('[data-clock]');
    if (clocks.length) startClock(clocks, live);
    return live;
  }

  global.Antre = {
    page: page,
    messages: messages,
    missing: missing,
    msg: msg,
    has: has,
    fill: fill,
    byId: byId,
    setText: setText,
    show: show,
    make: make,
    clear: clear,
    newKey: newKey,
    request: request,
    send: send,
    at: at,
    base: base,
    errorText: errorText,
    serviceById: serviceById,
    serviceName: serviceName,
    counterName: counterName,
    updateConfig: updateConfig,
    timeOf: timeOf,
    minutesText: minutesText,
    waitText: waitText,
    fillTicket: fillTicket,
    startClock: startClock,
    startLive: startLive,
    toast: toast
  };
})(window);
