/*
 * The visitor's phone (/t/<token>): the ticket live from /ws/tickets/<token>,
 * "please come in" and "go to counter N" with vibration and a sound where the
 * browser allows them, and cancelling.
 */
(function () {
  'use strict';

  var A = window.Antre;
  var page = A.page;
  var token = page.token;
  var root = A.byId('phone');
  var baseTitle = document.title;
  var phone = { ticket: null, alerts: [], gone: false };
  window.antrePhone = phone;

  function field(name) {
    return root.querySelector('[data-field="' + name + '"]');
  }

  function stateText(t) {
    var counter = t.counter ? A.counterName(t.counter) : '';
    switch (t.status) {
      case 'outside':
        return A.msg('phone.wait_outside');
      case 'waiting':
        return A.msg('phone.please_come_in');
      case 'called':
        return A.msg('phone.go_to_counter', { counter: counter });
      case 'serving':
        return A.msg('phone.serving', { counter: counter });
      case 'done':
        return A.msg('phone.done');
      case 'no_show':
        return A.msg('phone.no_show');
      case 'cancelled':
        return A.msg('phone.cancelled');
      default:
        return A.msg('common.status.' + t.status);
    }
  }

  function hintText(t) {
    if (t.status === 'called') return A.msg('phone.called');
    if (t.status === 'outside' || t.status === 'waiting') {
      return t.position > 1 ? A.msg('phone.ahead', { n: t.position - 1 }) : A.msg('phone.next_keep_open');
    }
    return '';
  }

  function render(t) {
    root.setAttribute('data-status', t.status);
    A.setText(field('number'), t.number);
    A.setText(field('service-line'), A.msg('phone.service', { service: A.serviceName(t.service) }));
    A.setText(field('state'), stateText(t));
    A.setText(field('hint'), hintText(t));
    var pending = t.status === 'outside' || t.status === 'waiting';
    A.show(field('facts'), pending);
    A.setText(field('position'), t.position ? String(t.position) : '–');
    A.setText(field('wait'), A.waitText(t));
    A.show(A.byId('cancel-area'), pending);
    A.show(A.byId('enable-alerts'), pending && !alertsOn);
    document.title = t.number + ' · ' + stateText(t) + ' · ' + baseTitle;
  }

  function update(t, type) {
    if (!t) return;
    var before = phone.ticket;
    phone.ticket = t;
    render(t);
    if (!before) return; // the first view is not news
    if (type === 'ticket.undone') return; // a counter took back a press: nothing new for the visitor
    if (t.status === 'called' && (before.status !== 'called' || type === 'ticket.recalled')) alert('called');
    else if (t.status === 'waiting' && before.status === 'outside') alert('come_in');
  }

  /* ---------- vibration and sound ---------- */

  var alertsOn = false;

  // Both need a user gesture first: the "enable alerts" button, or any tap.
  function unlock() {
    var ctx = window.AntreChime.context();
    if (ctx && ctx.state === 'suspended' && ctx.resume) ctx.resume();
  }

  function alert(kind) {
    phone.alerts.push(kind);
    try {
      if (navigator.vibrate) navigator.vibrate(kind === 'called' ? [500, 200, 500, 200, 500] : [400, 150, 400]);
    } catch (err) {
      /* vibration refused: the screen still says it */
    }
    window.AntreChime.play(kind);
  }

  A.byId('enable-alerts').addEventListener('click', function () {
    unlock();
    alertsOn = true;
    A.show(A.byId('enable-alerts'), false);
    alert('test');
  });
  // Any tap unlocks too, but changes nothing on screen: moving the layout
  // between pointerdown and click would make the tap land on another button.
  document.addEventListener('pointerdown', unlock, true);

  /* ---------- cancel ---------- */

  function showMessage(text) {
    var el = A.byId('phone-message');
    A.setText(el, text || '');
    A.show(el, !!text);
  }

  A.byId('cancel').addEventListener('click', function () {
    A.show(A.byId('cancel'), false);
    A.show(A.byId('cancel-confirm'), true);
  });
  A.byId('cancel-no').addEventListener('click', function () {
    A.show(A.byId('cancel'), true);
    A.show(A.byId('cancel-confirm'), false);
  });
  A.byId('cancel-yes').addEventListener('click', function (e) {
    var button = e.currentTarget;
    button.disabled = true;
    showMessage('');
    // DELETE is idempotent in effect (a cancelled ticket stays cancelled), so retrying is safe.
    A.send('DELETE', '/api/v1/tickets/' + encodeURIComponent(token), null, { retries: 2 }).then(function (res) {
      button.disabled = false;
      A.show(A.byId('cancel'), true);
      A.show(A.byId('cancel-confirm'), false);
      if (res.status === 200 && res.body) update(res.body, 'ticket.cancelled');
      else showMessage(A.errorText(res));
    }, function () {
      button.disabled = false;
      showMessage(A.msg('error.network'));
    });
  });

  /* ---------- live ---------- */

  update(page.ticket, null);
  phone.live = A.startLive({
    path: '/ws/tickets/' + encodeURIComponent(token),
    onSnapshot: function (state) {
      update(state.ticket, 'snapshot');
    },
    onEvent: function (ev, state) {
      update(state.ticket, ev.type);
    },
    onStatus: function (status) {
      if (status === 'gone') {
        phone.gone = true;
        root.setAttribute('data-status', 'cancelled');
        A.setText(field('state'), A.msg('phone.unknown'));
        A.show(field('facts'), false);
        A.show(A.byId('cancel-area'), false);
      }
    }
  });
})();
