/*
 * Counter: the officer's screen. One big "call next" (also Space and F1),
 * recall, serve, finish, no-show, transfer, call a number, pause and open.
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
    lastAnswer: null
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
    var waiting = 0;
    var counts = state.waiting || {};
    (me.services || []).forEach(function (s) {
      waiting += counts[s] || 0;
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

    var counts = (state && state.waiting) || {};
    var items = document.querySelectorAll('#waiting-list [data-service]');
    for (var i = 0; i < items.length; i++) {
      A.setText(items[i].querySelector('[data-count]'), String(counts[items[i].getAttribute('data-service')] || 0));
    }
    document.title = isIdle() && me.waiting > 0 ? '(' + me.waiting + ') ' + baseTitle : baseTitle;
    renderButtons();
  }

  function renderButtons() {
    var t = me.current;
    var st = t ? t.status : null;
    var busy = me.busy;
    A.byId('call-next').disabled = busy || me.coolingDown || !me.open;
    A.byId('recall').disabled = busy || st !== 'called';
    A.byId('serve').disabled = busy || st !== 'called';
    A.byId('finish').disabled = busy || !(st === 'called' || st === 'serving');
    A.byId('no-show').disabled = busy || st !== 'called';
    A.byId('transfer').disabled = busy || !(st === 'called' || st === 'serving');
    A.byId('call-number-button').disabled = busy || !me.open;
    A.byId('open-counter').disabled = busy;
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

  /* ---------- sound for a new arrival ---------- */

  var audio = null;

  function audioContext() {
    if (audio) return audio;
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    try {
      audio = new Ctx();
    } catch (err) {
      audio = null;
    }
    return audio;
  }

  // Browsers start audio suspended until the page is used; the officer's
  // first click or key unlocks it.
  ['pointerdown', 'keydown'].forEach(function (name) {
    document.addEventListener(name, function () {
      var ctx = audioContext();
      if (ctx && ctx.state === 'suspended' && ctx.resume) ctx.resume();
    }, true);
  });

  function chime() {
    me.chimes = (me.chimes || 0) + 1;
    var ctx = audioContext();
    if (!ctx || ctx.state !== 'running') return;
    try {
      var t = ctx.currentTime + 0.02;
      [[880, 0.18], [660, 0.3]].forEach(function (note) {
        var osc = ctx.createOscillator();
        var gain = ctx.createGain();
        osc.frequency.value = note[0];
        gain.gain.setValueAtTime(0.0001, t);
        gain.gain.exponentialRampToValueAtTime(0.12, t + 0.02); // soft: an office, not a lobby
        gain.gain.exponentialRampToValueAtTime(0.0001, t + note[1]);
        osc.connect(gain);
        gain.connect(ctx.destination);
        osc.start(t);
        osc.stop(t + note[1]);
        t += note[1];
      });
    } catch (err) {
      /* no sound is not an error worth showing */
    }
  }

  /* ---------- commands ---------- */

  function showMessage(text) {
    var el = A.byId('message');
    A.setText(el, text || '');
    A.show(el, !!text);
  }

  /** Send one command; while it runs every button is disabled. */
  function run(path, body, opts, onDone) {
    if (me.busy) return;
    me.busy = true;
    renderButtons();
    showMessage('');
    A.send('POST', base + path, body, opts || {}).then(
      function (res) {
        me.busy = false;
        me.lastAnswer = res.status;
        if (res.status === 401) {
          window.location.assign('/login?next=' + encodeURIComponent(window.location.pathname));
          return;
        }
        if (res.status >= 400) showMessage(A.errorText(res));
        else if (onDone) onDone(res);
        render(live.state);
      },
      function () {
        me.busy = false;
        showMessage(A.msg('error.network'));
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

  function callNext() {
    if (me.busy || me.coolingDown || !me.open) return;
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
      } else {
        applyTicket(res.body);
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

  function step(action) {
    run('/' + action, currentTicketBody(), { key: A.newKey(), retries: 3 }, function (res) {
      applyTicket(res.body);
    });
  }

  var confirmTimer = null;

  function noShow() {
    var button = A.byId('no-show');
    if (button.getAttribute('data-confirm') !== 'yes') {
      // Second press within a few seconds confirms: a no-show cannot be undone.
      button.setAttribute('data-confirm', 'yes');
      A.setText(button, A.msg('counter.no_show_confirm', { number: me.current ? me.current.number : '' }));
      clearTimeout(confirmTimer);
      confirmTimer = setTimeout(resetNoShow, CONFIRM_MS);
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

  A.byId('transfer-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var service = A.byId('transfer-service').value;
    var number = me.current ? me.current.number : '';
    run('/transfer', currentTicketBody({ service: service }), { key: A.newKey(), retries: 3 }, function (res) {
      applyTicket(res.body);
      A.toast(A.msg('counter.transfer_done', { number: number, service: A.serviceName(service) }));
    });
  });

  A.byId('call-number-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var input = A.byId('call-number');
    var number = input.value.replace(/\s+/g, '').toUpperCase();
    if (!number) return;
    run('/call', { number: number }, { key: A.newKey(), retries: 3 }, function (res) {
      applyTicket(res.body);
      input.value = '';
    });
  });

  var pauses = document.querySelectorAll('[data-pause]');
  for (var i = 0; i < pauses.length; i++) {
    pauses[i].addEventListener('click', function (e) {
      var reason = e.currentTarget.getAttribute('data-pause');
      run('/close', { reason: reason }, {}, function (res) {
        applyCounter(res.body);
      });
    });
  }
  A.byId('open-counter').addEventListener('click', function () {
    run('/open', null, {}, function (res) {
      applyCounter(res.body);
    });
  });

  function applyCounter(answer) {
    var c = myCounter(live.state);
    if (c && answer) {
      c.open = answer.open;
      c.reason = answer.reason || null;
    }
    if (answer) {
      me.open = answer.open;
      me.reason = answer.reason || null;
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
