/*
 * Kiosk: choose a service, see its requirements, set the party size, take a
 * ticket, see it (with QR code), print it, and go back to the start by itself.
 *
 * With a printer configured the ticket prints as soon as it is issued: a
 * visitor who taps "Selesai" still leaves with paper. On a phone (a narrow
 * screen that is not a paired kiosk) the ticket is never thrown away: no
 * countdown back to the start, and the main button opens the ticket's own
 * phone page (a phone cannot scan the QR code it shows).
 */
(function () {
  'use strict';

  var A = window.Antre;
  var page = A.page;
  var RETURN_FROM_TICKET_S = 30; // long enough to photograph or scan the QR code
  var RETURN_FROM_DETAIL_MS = 60000; // someone walked away while reading requirements
  var RETURN_FROM_CHECKIN_MS = 15000; // long enough to read "come in" or "wait outside" and the number
  var onPhone = !page.paired && !!(window.matchMedia && window.matchMedia('(max-width: 700px)').matches);

  var kiosk = {
    step: 'services',
    service: null,
    party: 1,
    ticket: null,
    token: null,
    key: null, // Idempotency-Key of the pending issue, kept until it succeeds
    busy: false,
    onPhone: onPhone,
    autoPrints: 0,
    priority: null // a priority category (config priority_categories), null for a normal ticket
  };
  var party = window.AntreParty.create({
    minus: A.byId('party-minus'),
    plus: A.byId('party-plus'),
    value: A.byId('party-value'),
    max: (page.office && page.office.capacity) || 1,
    onChange: function (n) {
      kiosk.party = n;
      // A different request is a different ticket: a new key for it.
      kiosk.key = null;
    }
  });
  document.documentElement.setAttribute('data-phone', onPhone ? 'true' : 'false');
  window.antreKiosk = kiosk; // for tests and debugging

  var idleTimer = null;
  var countdownTimer = null;
  var live = A.startLive({
    onSnapshot: render,
    onEvent: function (ev, state) {
      A.updateConfig(ev);
      // New services or counters: the tiles are server-rendered, so reload
      // them, but never in the middle of someone's ticket.
      if (ev.type === 'config.changed' && kiosk.step === 'services') window.location.reload();
      render(state);
    }
  });
  window.antreKioskLive = live;

  function render(state) {
    var waiting = state.waiting || {};
    var els = document.querySelectorAll('[data-waiting-for]');
    for (var i = 0; i < els.length; i++) {
      var n = waiting[els[i].getAttribute('data-waiting-for')] || 0;
      A.setText(els[i], A.msg('kiosk.waiting_count', { n: n }));
    }
    var occ = state.occupancy || {};
    var full = (occ.outside || 0) > 0 || (occ.capacity && occ.inside >= occ.capacity);
    A.show(A.byId('kiosk-full'), !!full);
  }

  function showStep(step) {
    // Outside the opening hours the start screen is the closed screen (with the next opening).
    if (kiosk.closed && step === 'services') step = 'closed';
    kiosk.step = step;
    var steps = document.querySelectorAll('[data-step]');
    for (var i = 0; i < steps.length; i++) steps[i].hidden = steps[i].getAttribute('data-step') !== step;
    window.scrollTo(0, 0);
    armIdle();
  }

  function armIdle() {
    clearTimeout(idleTimer);
    clearInterval(countdownTimer);
    A.setText(A.byId('returning'), '');
    if (kiosk.step === 'detail') {
      idleTimer = setTimeout(reset, RETURN_FROM_DETAIL_MS);
    } else if (kiosk.step === 'checkin') {
      idleTimer = setTimeout(reset, RETURN_FROM_CHECKIN_MS);
    } else if (kiosk.step === 'ticket' && !kiosk.onPhone) {
      var left = RETURN_FROM_TICKET_S;
      var tick = function () {
        A.setText(A.byId('returning'), A.msg('kiosk.returning', { seconds: left }));
        if (left-- <= 0) reset();
      };
      tick();
      countdownTimer = setInterval(tick, 1000);
    }
  }

  function reset() {
    kiosk.service = null;
    kiosk.party = 1;
    party.reset();
    kiosk.ticket = null;
    kiosk.token = null;
    kiosk.key = null;
    setPriority(null);
    A.show(A.byId('issue-error'), false);
    A.show(A.byId('print-error'), false);
    if (kiosk.onReset) kiosk.onReset();
    showStep('services');
  }

  /* ---------- priority visitors: one large choice, "not priority" first and chosen ---------- */

  function setPriority(category) {
    if (kiosk.priority !== category) kiosk.key = null; // another request: a new key
    kiosk.priority = category || null;
    var choices = document.querySelectorAll('[data-priority]');
    for (var i = 0; i < choices.length; i++) {
      var on = (choices[i].getAttribute('data-priority') || null) === kiosk.priority;
      choices[i].setAttribute('aria-pressed', on ? 'true' : 'false');
      choices[i].classList.toggle('is-chosen', on);
    }
  }

  var choiceButtons = document.querySelectorAll('[data-priority]');
  for (var c = 0; c < choiceButtons.length; c++) {
    choiceButtons[c].addEventListener('click', function (e) {
      setPriority(e.currentTarget.getAttribute('data-priority') || null);
      armIdle();
    });
  }

  function openDetail(serviceId) {
    var s = A.serviceById(serviceId);
    if (!s) return;
    kiosk.service = serviceId;
    kiosk.party = 1;
    kiosk.key = null;
    A.setText(A.byId('detail-name'), s.name);
    var list = A.byId('detail-requirements');
    A.clear(list);
    (s.requirements || []).forEach(function (r) {
      list.appendChild(A.make('li', null, r));
    });
    A.show(A.byId('detail-no-requirements'), !(s.requirements || []).length);
    A.setText(A.byId('detail-standard'), s.standard_minutes ? A.msg('kiosk.standard_time', { minutes: s.standard_minutes }) : '');
    A.setText(A.byId('detail-fee'), s.fee ? A.msg('kiosk.fee', { fee: s.fee }) : '');
    A.show(A.byId('issue-error'), false);
    party.reset();
    setPriority(null);
    showStep('detail');
  }

  function takeTicket() {
    if (kiosk.busy || !kiosk.service) return;
    var button = A.byId('take-ticket');
    kiosk.busy = true;
    button.disabled = true;
    A.show(A.byId('issue-error'), false);
    // Reused when the visitor presses again after a failure: if the first try
    // did reach the server, the same ticket comes back instead of a second one.
    kiosk.key = kiosk.key || A.newKey();
    var body = { service: kiosk.service, party_size: kiosk.party };
    if (kiosk.priority) body.priority = kiosk.priority;
    A.send('POST', '/api/v1/tickets', body, { key: kiosk.key, retries: 3 }).then(
      function (res) {
        kiosk.busy = false;
        button.disabled = false;
        if ((res.status === 201 || res.status === 200) && res.body && res.body.token) {
          kiosk.key = null;
          showTicket(res.body);
        } else {
          issueFailed(res);
        }
      },
      function () {
        kiosk.busy = false;
        button.disabled = false;
        issueFailed(null);
      }
    );
  }

  function showClosed(opensAt) {
    kiosk.closed = true;
    var when = opensAt ? opensAt.slice(0, 10) + ' ' + opensAt.slice(11, 16) : null;
    var now = new Date();
    var today = now.getFullYear() + '-' + ('0' + (now.getMonth() + 1)).slice(-2) + '-' + ('0' + now.getDate()).slice(-2);
    if (when && opensAt.slice(0, 10) === today) when = opensAt.slice(11, 16);
    A.setText(A.byId('closed-opens'), when ? A.msg('kiosk.closed_opens', { when: when }) : A.msg('kiosk.closed_never'));
    showStep('closed');
    // Look again at the opening time (and every few minutes, in case the admin changed the hours).
    var wait = opensAt ? Math.max(10000, Date.parse(opensAt) - Date.now() + 2000) : 300000;
    setTimeout(function () { window.location.reload(); }, Math.min(wait, 300000));
  }

  function issueFailed(res) {
    var el = A.byId('issue-error');
    var code = res && res.body && res.body.error && res.body.error.code;
    if (code === 'office_closed') {
      showClosed(res.body.error.opens_at || null);
      return;
    }
    A.setText(el, code && A.has('error.' + code) ? A.errorText(res) : A.msg('kiosk.error_issue'));
    A.show(el, true);
    armIdle();
  }

  function showTicket(ticket) {
    kiosk.ticket = ticket;
    kiosk.token = ticket.token;
    A.fillTicket(document.querySelector('[data-ticket-card]'), ticket, ticket.token);
    A.fillTicket(document.querySelector('[data-print-ticket]'), ticket, ticket.token);
    A.show(A.byId('print-error'), false);
    A.byId('print-ticket').disabled = false;
    var follow = A.byId('follow-link');
    follow.setAttribute('href', A.at('/t/' + encodeURIComponent(ticket.token)));
    showStep('ticket');
    if (page.printer) {
      // Paper at once: a visitor who taps "Selesai" must not leave without it.
      kiosk.autoPrints++;
      printTicket(true);
    }
  }

  function printTicket(automatic) {
    if (!kiosk.token) return;
    var button = A.byId('print-ticket');
    button.disabled = true;
    A.setText(button, A.msg('kiosk.printing'));
    var url = '/api/v1/tickets/' + encodeURIComponent(kiosk.token) + '/print';
    var done = function () {
      button.disabled = false;
      A.setText(button, A.msg('kiosk.print'));
      armIdle();
    };
    A.request('POST', url, null).then(
      function (res) {
        done();
        if (res.status === 200 && res.body && res.body.fallback === 'browser') {
          // No thermal printer: the browser's print dialog, only when asked for.
          if (automatic !== true) window.print();
        } else if (res.status !== 200) {
          A.setText(A.byId('print-error'), A.msg('kiosk.print_failed'));
          A.show(A.byId('print-error'), true);
        }
      },
      function () {
        done();
        A.setText(A.byId('print-error'), A.msg('kiosk.print_failed'));
        A.show(A.byId('print-error'), true);
      }
    );
  }

  // The check-in reader (kiosk_checkin.js) shows its answer as a step of this page.
  kiosk.showStep = showStep;
  kiosk.reset = reset;

  if (page.closed) showClosed(page.opens_at || null);

  var tiles = document.querySelectorAll('[data-service]');
  for (var i = 0; i < tiles.length; i++) {
    tiles[i].addEventListener('click', function (e) {
      openDetail(e.currentTarget.getAttribute('data-service'));
    });
  }
  A.byId('detail-back').addEventListener('click', reset);
  A.byId('take-ticket').addEventListener('click', takeTicket);
  A.byId('print-ticket').addEventListener('click', function () {
    printTicket(false);
  });
  A.byId('ticket-done').addEventListener('click', function () {
    // On a phone "done" opens the ticket's page: the number stays with its owner.
    if (kiosk.onPhone && kiosk.token) window.location.assign(A.byId('follow-link').getAttribute('href'));
    else reset();
  });
  // Any touch restarts the way back to the start screen.
  document.addEventListener('pointerdown', function () {
    if (kiosk.step !== 'services') armIdle();
  }, true);
})();
