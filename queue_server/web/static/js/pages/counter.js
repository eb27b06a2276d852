/*
 * Counter: the officer's screen. One big "call next" (also Space and F1),
 * recall, serve, finish, no-show, transfer, call a number, pause and open.
 *
 * Forgiving a wrong press: while a visitor is at the counter, the first
 * Space/F1/click on "call next" only asks "Selesai dengan A007 dan panggil
 * berikutnya?"; a second press within CONFIRM_MS goes on. The last step
 * (call, finish, no-show, serve) can be taken back for UNDO_MS ("Batalkan",
 * POST .../undo). The waiting panel lists the next numbers per service; a
 * tap asks first, then calls that number. Refusals say what happened and
 * what to do, from the error's details and this page's catalog.
 *
 * Every press that changes the queue is sent once with its own
 * Idempotency-Key; a retry after a network failure reuses that key, and the
 * buttons stay disabled while a request is in flight, so a double click or a
 * flaky link never calls two visitors.
 */
(function () {
  'use strict';

  var A = window.Antre;
  var page = A.page;
  var counterId = String(page.counter);
  var base = '/api/v1/counters/' + encodeURIComponent(counterId);
  var CONFIRM_MS = 4000;
  // A bounced key or a double click repeats within a few hundred ms: that is
  // still one press, not a confirmation.
  var CONFIRM_MIN_GAP_MS = 400;
  // The server keeps a step undoable for 15 s from its own clock; stop offering
  // it a little earlier so the button never promises what the server refuses.
  var UNDO_MS = 14000;
  var NEXT_SHOWN = 6;
  // A double click or a bounced key arrives within a few hundred ms, often
  // after the first call already finished on a fast LAN: presses this close
  // together are one press.
  var CALL_COOLDOWN_MS = 1000;
  var baseTitle = document.title;

  var me = {
    current: null,
    open: true,
    reason: null,
    services: [],
    waiting: 0,
    busy: false,
    coolingDown: false,
    presses: 0, // call-next presses that reached the request stage (tests)
    lastAnswer: null,
    confirm: null, // {what: 'next'|'number', number, at}: a first press waiting for its second
    pick: null, // number tapped in the waiting panel, waiting for "yes"
    undo: null, // {kind, number, until}: the step "Batalkan" takes back
    queues: []
  };
  window.antreCounter = me;

  var live = A.startLive({
    onSnapshot: function (state) {
      onState(state, null);
    },
    onEvent: function (ev, state) {
      A.updateConfig(ev);
      onState(state, ev);
    }
  });
  me.live = live;

  function myCounter(state) {
    var list = (state && state.counters) || [];
    for (var i = 0; i < list.length; i++) if (String(list[i].id) === counterId) return list[i];
    return null;
  }

  function onState(state, ev) {
    var c = myCounter(state);
    if (c) {
      me.current = c.current || null;
      me.open = c.open !== false;
      me.reason = c.reason || null;
      me.services = c.services || me.services;
    }
    // Visitors still outside cannot come to the counter: they are counted apart.
    me.queues = window.AntreBoard.nextNumbers(state, me.services, NEXT_SHOWN);
    var waiting = 0;
    me.queues.forEach(function (q) {
      waiting += q.waiting;
    });
    var before = me.waiting;
    me.waiting = waiting;
    // A soft sound only for a new arrival while nobody is at the counter;
    // a snapshot (reconnect) is not an arrival.
    if (ev && waiting > before && isIdle()) chime();
    render(state);
  }

  function isIdle() {
    return me.open && !me.current;
  }

  /* ---------- rendering ---------- */

  function render(state) {
    var t = me.current;
    A.show(A.byId('current-box'), !!t);
    A.show(A.byId('current-empty'), !t);
    A.byId('current').setAttribute('data-status', t ? t.status : '');
    if (t) {
      A.setText(A.byId('current-number'), t.number);
      A.setText(A.byId('current-service'), A.serviceName(t.service));
      var status = A.byId('current-status');
      A.setText(status, A.msg('common.status.' + t.status));
      status.className = 'status status-' + t.status;
      A.setText(A.byId('current-party'), t.party_size > 1 ? A.msg('counter.party_size', { n: t.party_size }) : '');
    }
    // Issue 11: a priority visitor and the step of a route, so the officer knows what comes next.
    var priority = t ? window.AntreRemote.priorityText(t, A.msg, A.has) : '';
    A.setText(A.byId('current-priority'), priority ? A.msg('priority.label') + ': ' + priority : '');
    A.show(A.byId('current-priority'), !!priority);
    var stepText = t ? window.AntreRemote.stepText(t, A.msg, A.serviceName) : '';
    A.setText(A.byId('current-step'), stepText);
    A.show(A.byId('current-step'), !!stepText);
    tickTimer();

    var note = A.byId('closed-note');
    A.show(note, !me.open);
    if (!me.open) {
      A.setText(note, me.reason && A.has('common.reason.' + me.reason)
        ? A.msg('counter.closed_reason', { reason: A.msg('common.reason.' + me.reason) })
        : A.msg('counter.closed'));
    }
    A.show(A.byId('pause-menu'), me.open);
    A.show(A.byId('open-counter'), !me.open);

    renderQueues();
    document.title = isIdle() && me.waiting > 0 ? '(' + me.waiting + ') ' + baseTitle : baseTitle;
    renderButtons();
  }

  function renderQueues() {
    var byService = {};
    me.queues.forEach(function (q) {
      byService[q.service] = q;
    });
    var items = document.querySelectorAll('#waiting-list [data-service]');
    for (var i = 0; i < items.length; i++) {
      var q = byService[items[i].getAttribute('data-service')] || { waiting: 0, outside: 0, next: [] };
      A.setText(items[i].querySelector('[data-count]'), String(q.waiting));
      var outside = items[i].querySelector('[data-outside]');
      A.setText(outside, q.outside ? A.msg('counter.outside_count', { n: q.outside }) : '');
      A.show(outside, q.outside > 0);
      var box = items[i].querySelector('[data-next]');
      var key = q.next.map(function (t) {
        return t.number + '/' + t.party_size + '/' + (t.priority || '');
      }).join(',');
      if (box.getAttribute('data-key') === key) continue;
      box.setAttribute('data-key', key);
      A.clear(box);
      q.next.forEach(function (t) {
        var b = A.make('button', 'btn next-number', t.number);
        b.type = 'button';
        b.setAttribute('data-number', t.number);
        if (t.party_size > 1) b.appendChild(A.make('small', null, A.msg('counter.party_size', { n: t.party_size })));
        if (t.priority) {
          b.classList.add('is-priority');
          b.setAttribute('title', window.AntreRemote.priorityText(t, A.msg, A.has));
          b.appendChild(A.make('small', 'priority-badge', A.msg('priority.mark')));
        }
        box.appendChild(b);
      });
      if (!q.next.length) box.appendChild(A.make('span', 'muted', A.msg('counter.queue_empty')));
    }
    renderPick();
  }

  function renderPick() {
    var box = A.byId('pick-confirm');
    var pick = me.pick;
    A.show(box, !!pick);
    if (!pick) return;
    A.setText(A.byId('pick-text'), me.current
      ? A.msg('counter.confirm_number_finish', { current: me.current.number, number: pick })
      : A.msg('counter.confirm_number', { number: pick }));
    var buttons = document.querySelectorAll('[data-number]');
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].classList.toggle('is-picked', buttons[i].getAttribute('data-number') === pick);
    }
  }

  function renderButtons() {
    var t = me.current;
    var st = t ? t.status : null;
    var busy = me.busy;
    var call = A.byId('call-next');
    var asking = !!(me.confirm && me.confirm.what === 'next');
    call.setAttribute('data-confirm', asking ? 'yes' : 'no');
    A.setText(A.byId('call-next-label'), asking && t
      ? A.msg('counter.confirm_next', { number: t.number }) : A.msg('counter.call_next'));
    A.byId('pick-yes').disabled = busy || !me.open;
    A.byId('call-next').disabled = busy || me.coolingDown || !me.open;
    A.byId('recall').disabled = busy || st !== 'called';
    A.byId('serve').disabled = busy || st !== 'called';
    A.byId('finish').disabled = busy || !(st === 'called' || st === 'serving');
    A.byId('no-show').disabled = busy || st !== 'called';
    A.byId('transfer').disabled = busy || !(st === 'called' || st === 'serving');
    A.byId('call-number-button').disabled = busy || !me.open;
    if (A.byId('rejoin-number')) A.byId('rejoin-number').disabled = busy;
    A.byId('open-counter').disabled = busy;
    A.byId('undo').disabled = busy;
    var pauses = document.querySelectorAll('[data-pause]');
    for (var i = 0; i < pauses.length; i++) pauses[i].disabled = busy;
  }

  function pad(n) {
    return (n < 10 ? '0' : '') + n;
  }

  function tickTimer() {
    var t = me.current;
    var timer = A.byId('timer');
    if (!t) {
      A.setText(timer, '');
      A.setText(A.byId('timer-note'), '');
      return;
    }
    var since = Date.parse(t.serving_at || t.called_at || '');
    if (isNaN(since)) return;
    var now = live.serverNow ? live.serverNow() : Date.now();
    var seconds = Math.max(0, Math.floor((now - since) / 1000));
    var text = pad(Math.floor(seconds / 60)) + ':' + pad(seconds % 60);
    A.setText(timer, text);
    var service = A.serviceById(t.service);
    var standard = service && service.standard_minutes;
    var over = !!standard && seconds > standard * 60;
    timer.classList.toggle('over', over);
    A.setText(A.byId('timer-note'), over
      ? A.msg('counter.over_standard', { minutes: standard })
      : A.msg(t.status === 'serving' ? 'counter.timer_serving' : 'counter.timer_called', { elapsed: text }));
  }
  setInterval(tickTimer, 1000);

  /* ---------- sound for a new arrival (chime.js, shared with the phone and the lobby) ---------- */

  window.AntreChime.unlockOnGesture();

  function chime() {
    me.chimes = (me.chimes || 0) + 1;
    window.AntreChime.play('arrival');
  }

  /* ---------- commands ---------- */

  function showMessage(text) {
    if (!text && A.byId('message-rejoin')) A.show(A.byId('message-rejoin'), false);
    var el = A.byId('message');
    A.setText(el, text || '');
    A.show(el, !!text);
  }

  // "09:14" in English, "09.14" in Indonesian, from the server's office-local time.
  function clock(iso) {
    var hm = A.timeOf(iso);
    return page.lang === 'en' ? hm : hm.replace(':', '.');
  }

  /** What went wrong, in words the officer can act on (error details + this page's catalog). */
  function describeError(res, number) {
    var err = res && res.body && res.body.error;
    var d = (err && err.details) || {};
    if (!err) return A.errorText(res);
    var params = {
      number: d.number || number || '',
      counter: d.counter_name || (d.counter ? A.counterName(d.counter) : ''),
      service: d.service_name || (d.service ? A.serviceName(d.service) : ''),
      time: clock(d.at)
    };
    if (err.code === 'unknown_ticket_number') return A.msg('counter.err_unknown_number', params);
    if (err.code === 'service_not_served') return A.msg('counter.err_service_not_served', params);
    if (err.code === 'invalid_transition' && d.status) {
      var here = d.counter && String(d.counter) === counterId && (d.status === 'called' || d.status === 'serving');
      var key = here ? 'counter.err_here' : 'counter.err_status_' + d.status;
      if (A.has(key)) return A.msg(key, params);
    }
    return A.errorText(res);
  }

  /** Send one command; while it runs every button is disabled. onFail(res) may take over the message. */
  function run(path, body, opts, onDone, onFail) {
    if (me.busy) return;
    me.busy = true;
    renderButtons();
    showMessage('');
    A.send('POST', base + path, body, opts || {}).then(
      function (res) {
        me.busy = false;
        me.lastAnswer = res.status;
        if (res.status === 401) {
          window.location.assign(A.at('/login?next=' + encodeURIComponent(window.location.pathname)));
          return;
        }
        if (res.status >= 400) {
          showMessage(onFail ? onFail(res) : A.errorText(res));
        } else if (onDone) {
          onDone(res);
        }
        render(live.state);
      },
      function () {
        me.busy = false;
        showMessage(A.msg('error.network'));
        if (onFail) onFail(null);
        render(live.state);
      }
    );
  }

  // The answer is applied at once; the matching event that follows changes nothing.
  function applyTicket(ticket) {
    var c = myCounter(live.state);
    var here = ticket && (ticket.status === 'called' || ticket.status === 'serving') &&
      String(ticket.counter) === counterId;
    if (c) c.current = here ? ticket : null;
    me.current = here ? ticket : null;
  }

  /* ----- "are you sure?" for the press that closes a visit ----- */

  var confirmTimer = null;

  function askFirst(what, number) {
    var now = Date.now();
    var c = me.confirm;
    if (c && c.what === what && c.number === number) {
      // A second press: on only if it is not the same press bouncing.
      if (now - c.at < CONFIRM_MIN_GAP_MS) return false;
      clearConfirm();
      return true;
    }
    me.confirm = { what: what, number: number, at: now };
    clearTimeout(confirmTimer);
    confirmTimer = setTimeout(clearConfirm, CONFIRM_MS);
    renderButtons();
    return false;
  }

  function clearConfirm() {
    clearTimeout(confirmTimer);
    if (!me.confirm) return;
    me.confirm = null;
    renderButtons();
  }

  /* ----- undo ("Batalkan") ----- */

  var undoTimer = null;

  function offerUndo(kind, number) {
    me.undo = { kind: kind, number: number, until: Date.now() + UNDO_MS };
    clearInterval(undoTimer);
    undoTimer = setInterval(renderUndo, 250);
    renderUndo();
  }

  function dropUndo() {
    me.undo = null;
    clearInterval(undoTimer);
    renderUndo();
  }

  function renderUndo() {
    var u = me.undo;
    var left = u ? Math.ceil((u.until - Date.now()) / 1000) : 0;
    if (u && left <= 0) {
      me.undo = null;
      clearInterval(undoTimer);
      u = null;
    }
    A.show(A.byId('undo-bar'), !!u);
    if (!u) return;
    A.setText(A.byId('undo-text'), A.msg('counter.undo_' + u.kind, { number: u.number }));
    A.setText(A.byId('undo-seconds'), A.msg('counter.undo_seconds', { seconds: left }));
    A.byId('undo').disabled = me.busy;
  }

  function undo() {
    if (!me.undo || me.busy) return;
    clearConfirm();
    run('/undo', null, { key: A.newKey(), retries: 3 }, function (res) {
      dropUndo();
      var body = res.body || {};
      applyTicket(body.current || null);
      var back = (body.tickets || []).map(function (t) {
        return t.number;
      }).join(', ');
      A.toast(A.msg('counter.undone', { numbers: back }));
    }, function (res) {
      dropUndo();
      return res ? describeError(res) : A.msg('error.network');
    });
  }

  /* ----- the steps ----- */

  function callNext() {
    if (me.busy || me.coolingDown || !me.open) return;
    var previous = me.current;
    // Someone is at the counter: this press would close their visit. Ask first.
    if (previous && !askFirst('next', null)) return;
    me.presses++;
    me.coolingDown = true;
    setTimeout(function () {
      me.coolingDown = false;
      renderButtons();
    }, CALL_COOLDOWN_MS);
    // One key per press; A.send reuses it for its retries.
    run('/call-next', null, { key: A.newKey(), retries: 3 }, function (res) {
      if (res.status === 204) {
        applyTicket(null);
        showMessage(A.msg('counter.queue_empty'));
        if (previous) offerUndo('finish', previous.number);
      } else {
        applyTicket(res.body);
        offerUndo('call', res.body.number);
      }
    });
  }

  // Name the ticket the officer sees and key the press: a retry that arrives late
  // is refused (ticket_not_current) instead of landing on the next visitor.
  function currentTicketBody(extra) {
    var body = extra || {};
    if (me.current) body.ticket = me.current.id;
    return body;
  }

  var UNDO_KIND = { finish: 'finish', 'no-show': 'no_show', serve: 'serve' };

  function step(action) {
    clearConfirm();
    var number = me.current ? me.current.number : '';
    run('/' + action, currentTicketBody(), { key: A.newKey(), retries: 3 }, function (res) {
      applyTicket(res.body);
      if (UNDO_KIND[action]) offerUndo(UNDO_KIND[action], number);
    });
  }

  var noShowTimer = null;

  function noShow() {
    var button = A.byId('no-show');
    if (button.getAttribute('data-confirm') !== 'yes') {
      // Second press within a few seconds confirms.
      button.setAttribute('data-confirm', 'yes');
      A.setText(button, A.msg('counter.no_show_confirm', { number: me.current ? me.current.number : '' }));
      clearTimeout(noShowTimer);
      noShowTimer = setTimeout(resetNoShow, CONFIRM_MS);
      return;
    }
    resetNoShow();
    step('no-show');
  }

  function resetNoShow() {
    var button = A.byId('no-show');
    button.removeAttribute('data-confirm');
    A.setText(button, A.msg('counter.no_show'));
  }

  function callNumber(number, onFail) {
    clearConfirm();
    run('/call', { number: number }, { key: A.newKey(), retries: 3 }, function (res) {
      applyTicket(res.body);
      offerUndo('call', res.body.number);
      me.pick = null;
      A.byId('call-number').value = '';
    }, function (res) {
      if (onFail) onFail();
      var err = res && res.body && res.body.error;
      var missed = err && err.code === 'invalid_transition' && err.details && err.details.status === 'no_show';
      offerRejoin(missed && page.rejoin ? err.details.number || number : null);
      return res ? describeError(res, number) : A.msg('error.network');
    });
  }

  A.byId('call-next').addEventListener('click', callNext);
  A.byId('recall').addEventListener('click', function () {
    step('recall');
  });
  A.byId('serve').addEventListener('click', function () {
    step('serve');
  });
  A.byId('finish').addEventListener('click', function () {
    step('finish');
  });
  A.byId('no-show').addEventListener('click', noShow);
  A.byId('undo').addEventListener('click', undo);

  A.byId('transfer-form').addEventListener('submit', function (e) {
    e.preventDefault();
    clearConfirm();
    var service = A.byId('transfer-service').value;
    var number = me.current ? me.current.number : '';
    run('/transfer', currentTicketBody({ service: service }), { key: A.newKey(), retries: 3 }, function (res) {
      applyTicket(res.body);
      dropUndo(); // the undone call would now land on a transferred ticket: the server refuses it anyway
      A.toast(A.msg('counter.transfer_done', { number: number, service: A.serviceName(service) }));
    });
  });

  // A no-show back at the desk: into the queue again, behind at most a few (the server's rule).
  function rejoin(number) {
    if (!number || me.busy) return;
    var input = A.byId('call-number');
    clearConfirm();
    offerRejoin(null);
    me.busy = true;
    renderButtons();
    showMessage('');
    A.send('POST', '/api/v1/rejoin', { number: number }, { key: A.newKey(), retries: 2 }).then(function (res) {
      me.busy = false;
      me.lastAnswer = res.status;
      if (res.status === 200 && res.body) {
        input.value = '';
        A.toast(A.msg('counter.rejoined', { number: res.body.number }));
      } else {
        var err = res.body && res.body.error;
        showMessage(err && err.code === 'rejoin_not_allowed' && err.message ? err.message : describeError(res, number));
        input.focus();
        input.select();
      }
      renderButtons();
    }, function () {
      me.busy = false;
      showMessage(A.msg('error.network'));
      renderButtons();
    });
  }

  function typedNumber() {
    return A.byId('call-number').value.replace(/\s+/g, '').toUpperCase();
  }

  // Calling a number that missed its call is refused; the refusal offers to let it rejoin instead.
  function offerRejoin(number) {
    var button = A.byId('message-rejoin');
    button.setAttribute('data-number', number || '');
    A.setText(button, number ? A.msg('door.rejoin') + ' ' + number : '');
    A.show(button, !!number);
  }

  if (A.byId('rejoin-number')) {
    A.byId('rejoin-number').addEventListener('click', function () {
      rejoin(typedNumber());
    });
  }
  A.byId('message-rejoin').addEventListener('click', function (e) {
    rejoin(e.currentTarget.getAttribute('data-number'));
  });

  A.byId('call-number-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var input = A.byId('call-number');
    var number = input.value.replace(/\s+/g, '').toUpperCase();
    if (!number) return;
    callNumber(number, function () {
      // Keep what was typed, selected: retype over it or fix one character.
      input.focus();
      input.select();
    });
  });

  // A tap on a waiting number asks first; "yes" calls it.
  A.byId('waiting-list').addEventListener('click', function (e) {
    var target = e.target && e.target.closest ? e.target.closest('[data-number]') : null;
    if (!target) return;
    me.pick = target.getAttribute('data-number');
    renderPick();
  });
  A.byId('pick-yes').addEventListener('click', function () {
    if (me.pick) callNumber(me.pick);
  });
  A.byId('pick-no').addEventListener('click', function () {
    me.pick = null;
    renderPick();
  });

  var pauses = document.querySelectorAll('[data-pause]');
  for (var i = 0; i < pauses.length; i++) {
    pauses[i].addEventListener('click', function (e) {
      var reason = e.currentTarget.getAttribute('data-pause');
      clearConfirm();
      run('/close', { reason: reason }, {}, function (res) {
        applyCounter(res.body, reason);
      });
    });
  }
  A.byId('open-counter').addEventListener('click', function () {
    run('/open', null, {}, function (res) {
      applyCounter(res.body, null);
    });
  });

  function applyCounter(answer, reason) {
    var c = myCounter(live.state);
    if (c && answer) {
      c.open = answer.open;
      c.reason = answer.open ? null : reason;
    }
    if (answer) {
      me.open = answer.open;
      me.reason = answer.open ? null : reason;
    }
  }

  /* ---------- keys: Space and F1 call the next visitor ---------- */

  function typing(target) {
    var tag = target && target.tagName;
    return tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA';
  }

  document.addEventListener('keydown', function (e) {
    var space = e.key === ' ' || e.key === 'Spacebar' || e.code === 'Space';
    if (e.key === 'F1' || (space && !typing(e.target))) {
      // Also stops F1's help page and Space "clicking" whichever button has focus.
      e.preventDefault();
      if (!e.repeat) callNext();
    }
  });
  document.addEventListener('keyup', function (e) {
    var space = e.key === ' ' || e.key === 'Spacebar' || e.code === 'Space';
    if (space && !typing(e.target)) e.preventDefault();
  });
})();
