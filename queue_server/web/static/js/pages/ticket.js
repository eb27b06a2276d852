/*
 * The visitor's phone (/t/<token>): the ticket live from /ws/tickets/<token>,
 * "please come in" and "go to counter N" with vibration and a sound where the
 * browser allows them, and cancelling.
 *
 * Issue 11 (api-remote.md): a ticket taken from home shows its place and wait
 * at home, then "Silakan datang sekarang" once the server says come_now (with
 * the lobby's chime clip and vibration), and the QR code the kiosk scans to
 * check it in; a booked ticket shows its day; the route step and the priority
 * are shown; a no-show of today may rejoin. live/remote.js holds the rules.
 */
(function () {
  'use strict';

  var A = window.Antre;
  var R = window.AntreRemote;
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
      case 'remote':
        return t.come_now ? A.msg('phone.come_now') : A.msg('phone.remote_wait');
      case 'booked':
        return A.msg('phone.booked', { date: dateText(t.date) });
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

  // "Selasa, 8 Desember 2026": a booked day in words, in the page's language.
  function dateText(iso) {
    if (!iso) return '';
    try {
      return new Intl.DateTimeFormat(page.lang === 'en' ? 'en-GB' : 'id-ID', {
        weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC'
      }).format(new Date(iso + 'T00:00:00Z'));
    } catch (err) {
      return iso;
    }
  }

  function hintText(t) {
    if (t.status === 'called') return A.msg('phone.called');
    if (t.status === 'booked') return A.msg('phone.booked_hint');
    if (t.status === 'remote') {
      if (t.come_now) return A.msg('phone.come_now_hint');
      return t.position > 1 ? A.msg('phone.ahead', { n: t.position - 1 }) + ' · ' + A.msg('phone.remote_hint')
        : A.msg('phone.remote_hint');
    }
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
    var pending = t.status === 'outside' || t.status === 'waiting' || t.status === 'remote';
    var away = t.status === 'remote' || t.status === 'booked';
    root.setAttribute('data-come-now', t.status === 'remote' && t.come_now ? 'true' : 'false');
    A.show(field('facts'), pending);
    A.setText(field('position'), t.position ? String(t.position) : '–');
    A.setText(field('wait'), A.waitText(t));
    var step = R.stepText(t, A.msg, A.serviceName);
    A.setText(field('step'), step);
    A.show(field('step'), !!step);
    var priority = R.priorityText(t, A.msg, A.has);
    A.setText(field('priority'), priority ? A.msg('phone.priority', { category: priority }) : '');
    A.show(field('priority'), !!priority);
    // The check-in code only while it can be used: before the visitor is let in at the entrance.
    var qr = field('checkin-qr');
    if (away && !qr.getAttribute('src')) qr.setAttribute('src', A.at('/t/' + encodeURIComponent(token) + '/qr.svg'));
    A.show(field('checkin'), away);
    A.show(A.byId('rejoin-area'), R.canRejoin(t, page.today) && !rejoined);
    A.show(A.byId('cancel-area'), pending || t.status === 'booked');
    A.show(A.byId('enable-alerts'), (pending || t.status === 'booked') && !alertsOn);
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
    else if (R.comeNowAlert(before, t)) alert('come_now');
  }

  /* ---------- vibration and sound ---------- */

  var alertsOn = false;

  // Both need a user gesture first: the "enable alerts" button, or any tap.
  function unlock() {
    var ctx = window.AntreChime.context();
    if (ctx && ctx.state === 'suspended' && ctx.resume) ctx.resume();
  }

  // "Come now" is the one alert a visitor at home must not miss: the lobby's own chime clip,
  // loud, and the longest vibration; the tones of chime.js stand in where the clip cannot play.
  var comeNowClip = null;

  function playComeNow() {
    var lang = page.lang === 'en' ? 'en' : 'id';
    try {
      comeNowClip = comeNowClip || new Audio(A.at('/static/audio/' + lang + '/chime.mp3'));
      comeNowClip.currentTime = 0;
      var played = comeNowClip.play();
      if (played && played.catch) played.catch(function () { window.AntreChime.play('called'); });
    } catch (err) {
      window.AntreChime.play('called');
    }
  }

  function alert(kind) {
    phone.alerts.push(kind);
    var pattern = kind === 'called' ? [500, 200, 500, 200, 500]
      : kind === 'come_now' ? [700, 250, 700, 250, 700, 250, 700] : [400, 150, 400];
    try {
      // Browsers allow vibration only after the visitor touched the page (the "enable" button).
      if (navigator.vibrate && (alertsOn || kind !== 'test')) navigator.vibrate(pattern);
    } catch (err) {
      /* vibration refused: the screen still says it */
    }
    if (kind === 'come_now') playComeNow();
    else window.AntreChime.play(kind);
  }

  A.byId('enable-alerts').addEventListener('click', function () {
    unlock();
    // Playing the clip once inside the tap lets the page play it again later without a tap.
    var lang = page.lang === 'en' ? 'en' : 'id';
    try {
      comeNowClip = comeNowClip || new Audio(A.at('/static/audio/' + lang + '/chime.mp3'));
      comeNowClip.muted = true;
      var warm = comeNowClip.play();
      var unmute = function () { comeNowClip.pause(); comeNowClip.muted = false; };
      if (warm && warm.then) warm.then(unmute, unmute);
      else unmute();
    } catch (err) {
      /* no audio element: the tones of chime.js remain */
    }
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

  /* ---------- rejoin after a missed call ---------- */

  var rejoined = false;
  var rejoinKey = null;

  A.byId('rejoin').addEventListener('click', function (e) {
    var button = e.currentTarget;
    button.disabled = true;
    showMessage('');
    // One key for this press and its retries: a retry that reached the server twice rejoins once.
    rejoinKey = rejoinKey || A.newKey();
    A.send('POST', '/api/v1/tickets/' + encodeURIComponent(token) + '/rejoin', null, { key: rejoinKey, retries: 2 })
      .then(function (res) {
        button.disabled = false;
        if (res.status === 200 && res.body) {
          rejoined = true;
          rejoinKey = null;
          update(res.body, 'ticket.rejoined');
          A.toast(A.msg('phone.rejoined'));
          return;
        }
        rejoinKey = null;
        var err = res.body && res.body.error;
        // The server's message says why (too many calls since, or already rejoined once).
        showMessage(err && err.code === 'rejoin_not_allowed' && err.message ? err.message : A.errorText(res));
        if (err && err.code === 'rejoin_not_allowed') A.show(A.byId('rejoin-area'), false);
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
