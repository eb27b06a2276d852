/*
 * Door keeper: occupancy, +/- for people without a ticket, the numbers let
 * in recently, and issuing a ticket for a visitor (touch-free at the door),
 * with a priority category where the office has them. Issue 11: check in a
 * ticket from home by its number (POST /api/v1/check-in) and let a visitor
 * who missed the call rejoin (POST /api/v1/rejoin).
 */
(function () {
  'use strict';

  var A = window.Antre;
  var page = A.page;
  var SHOWN = 6;
  var door = { party: 1, busy: false, key: null, token: null, full: false, priority: null, answer: null };
  window.antreDoor = door;
  var party = window.AntreParty.create({
    minus: A.byId('party-minus'),
    plus: A.byId('party-plus'),
    value: A.byId('party-value'),
    max: (page.office && page.office.capacity) || 1,
    onChange: function (n) {
      door.party = n;
      door.key = null;
    }
  });

  var live = A.startLive({
    onSnapshot: render,
    onEvent: function (ev, state) {
      A.updateConfig(ev);
      render(state);
    }
  });
  door.live = live;

  function render(state) {
    var occ = state.occupancy || {};
    var inside = occ.inside || 0;
    var capacity = occ.capacity || 0;
    var full = capacity > 0 && inside >= capacity;
    A.setText(A.byId('door-count'), inside + ' / ' + capacity);
    var sign = A.byId('door-sign');
    var blocked = full || occ.outside > 0;
    sign.classList.toggle('admission-in', !blocked);
    sign.classList.toggle('admission-out', blocked);
    A.setText(sign, full ? A.msg('door.full_warning', { inside: inside, capacity: capacity })
      : blocked ? A.msg('entrance.full_hint') : A.msg('entrance.open_hint', { free: capacity - inside }));
    var meter = A.byId('door-meter');
    meter.setAttribute('data-fill', String(capacity ? Math.min(10, Math.round((inside / capacity) * 10)) : 0));
    meter.classList.toggle('is-full', full);
    // Full: "+ Masuk" is visibly off, and the reason stands right next to it.
    door.full = full;
    var plus = A.byId('door-plus');
    plus.disabled = full;
    plus.setAttribute('aria-disabled', full ? 'true' : 'false');
    var reason = A.byId('plus-reason');
    A.setText(reason, full ? A.msg('door.plus_full', { inside: inside, capacity: capacity }) : '');
    A.show(reason, full);
    A.show(A.byId('plus-hint'), !full);
    A.setText(A.byId('door-outside'), occ.outside > 0
      ? A.msg('door.outside_tickets', { n: occ.outside, people: occ.outside_people || occ.outside }) : '');

    var list = A.byId('door-admitted');
    A.clear(list);
    var admitted = (state.recent_admitted || []).slice(0, SHOWN);
    admitted.forEach(function (item) {
      var li = A.make('li');
      li.appendChild(A.make('span', 'number', item.number));
      li.appendChild(A.make('span', 'muted', A.timeOf(item.at)));
      list.appendChild(li);
    });
    A.show(A.byId('door-no-admitted'), !admitted.length);

    var waiting = state.waiting || {};
    var els = document.querySelectorAll('[data-waiting-for]');
    for (var i = 0; i < els.length; i++) {
      A.setText(els[i], A.msg('kiosk.waiting_count', { n: waiting[els[i].getAttribute('data-waiting-for')] || 0 }));
    }
  }

  function showMessage(text) {
    var el = A.byId('door-message');
    A.setText(el, text || '');
    A.show(el, !!text);
  }

  function answerFailed(res) {
    if (res && res.status === 401) {
      window.location.assign(A.at('/login?next=' + encodeURIComponent(A.at('/door'))));
      return;
    }
    var code = res && res.body && res.body.error && res.body.error.code;
    if (code === 'capacity_full') showMessage(A.msg('door.capacity_full'));
    else if (code === 'occupancy_below_zero') showMessage(A.msg('door.below_zero'));
    else showMessage(A.errorText(res));
  }

  // No retries here: counting has no idempotency key, and a repeated "+1"
  // would count a person twice. Each tap is its own request, so a group of
  // three is three quick taps.
  function count(direction) {
    showMessage('');
    A.request('POST', '/api/v1/occupancy/' + direction, { count: 1 }).then(function (res) {
      if (res.status !== 200) answerFailed(res);
    }, function () {
      showMessage(A.msg('error.network'));
    });
  }

  A.byId('door-plus').addEventListener('click', function () {
    count('enter');
  });
  A.byId('door-minus').addEventListener('click', function () {
    count('exit');
  });


  function issue(serviceId) {
    if (door.busy) return;
    door.busy = true;
    showMessage('');
    // Kept until it succeeds, so tapping again after a failure cannot make a second ticket.
    var body = { service: serviceId, party_size: door.party };
    if (door.priority) body.priority = door.priority;
    var signature = JSON.stringify(body);
    if (!door.key || door.keyFor !== signature) {
      door.key = A.newKey();
      door.keyFor = signature;
    }
    A.send('POST', '/api/v1/tickets', body, { key: door.key, retries: 3 })
      .then(function (res) {
        door.busy = false;
        if ((res.status === 201 || res.status === 200) && res.body && res.body.token) {
          door.key = null;
          showTicket(res.body);
        } else {
          answerFailed(res);
        }
      }, function () {
        door.busy = false;
        showMessage(A.msg('error.network'));
      });
  }

  function showTicket(ticket) {
    door.token = ticket.token;
    A.fillTicket(document.querySelector('[data-ticket-card]'), ticket, ticket.token);
    A.fillTicket(document.querySelector('[data-print-ticket]'), ticket, ticket.token);
    A.show(A.byId('door-issue'), false);
    A.show(A.byId('door-ticket'), true);
    A.byId('door-ticket').scrollIntoView();
  }

  var tiles = document.querySelectorAll('[data-issue]');
  for (var i = 0; i < tiles.length; i++) {
    tiles[i].addEventListener('click', function (e) {
      issue(e.currentTarget.getAttribute('data-issue'));
    });
  }

  function setPriority(category) {
    door.priority = category || null;
    var choices = document.querySelectorAll('[data-priority]');
    for (var i = 0; i < choices.length; i++) {
      var on = (choices[i].getAttribute('data-priority') || null) === door.priority;
      choices[i].setAttribute('aria-pressed', on ? 'true' : 'false');
    }
  }

  var choices = document.querySelectorAll('[data-priority]');
  for (var c = 0; c < choices.length; c++) {
    choices[c].addEventListener('click', function (e) {
      setPriority(e.currentTarget.getAttribute('data-priority'));
    });
  }

  /* ---------- check in or rejoin by number ---------- */

  function numberAnswer(text, isError) {
    var el = A.byId('number-answer');
    A.setText(el, text || '');
    el.classList.toggle('form-error', !!isError);
    A.show(el, !!text);
  }

  // kind: 'check-in' | 'rejoin'. Both are refused the second time without changing anything, so
  // a retry after a lost answer is safe; its key makes the server answer a repeat the same way.
  function byNumber(kind) {
    var input = A.byId('door-number');
    var number = input.value.replace(/\s+/g, '').toUpperCase();
    if (!number || door.busy) return;
    door.busy = true;
    numberAnswer('', false);
    A.send('POST', '/api/v1/' + kind, { number: number }, { key: A.newKey(), retries: 2 }).then(function (res) {
      door.busy = false;
      door.answer = { kind: kind, status: res.status, code: res.body && res.body.error ? res.body.error.code : null };
      if (res.status === 401) {
        answerFailed(res);
        return;
      }
      if (res.status === 200 && res.body) {
        var t = res.body;
        var state = t.status === 'outside' ? A.msg('kiosk.wait_outside') : A.msg('kiosk.come_in');
        numberAnswer(kind === 'rejoin' ? A.msg('door.rejoined', { number: t.number })
          : A.msg('door.checked_in', { number: t.number, state: state }), false);
        input.value = '';
        return;
      }
      var err = res.body && res.body.error;
      // rejoin_not_allowed's own message says why (already rejoined, too many calls since).
      numberAnswer(err && err.code === 'rejoin_not_allowed' && err.message ? err.message : A.errorText(res), true);
      input.select();
    }, function () {
      door.busy = false;
      numberAnswer(A.msg('error.network'), true);
    });
  }

  if (A.byId('number-form')) {
    A.byId('number-form').addEventListener('submit', function (e) {
      e.preventDefault();
      byNumber('check-in');
    });
    A.byId('door-rejoin').addEventListener('click', function () {
      byNumber('rejoin');
    });
  }

  A.byId('ticket-done').addEventListener('click', function () {
    door.token = null;
    door.party = 1;
    party.reset();
    setPriority(null);
    A.show(A.byId('door-ticket'), false);
    A.show(A.byId('door-issue'), true);
  });

  A.byId('print-ticket').addEventListener('click', function () {
    if (!door.token) return;
    A.request('POST', '/api/v1/tickets/' + encodeURIComponent(door.token) + '/print', null).then(function (res) {
      if (res.status === 200 && res.body && res.body.fallback === 'browser') window.print();
      else if (res.status !== 200) showMessage(A.msg('kiosk.print_failed'));
    }, function () {
      showMessage(A.msg('kiosk.print_failed'));
    });
  });
})();
