/*
 * The phone page /remote: take a ticket from home (api-remote.md). Choose a
 * service (its requirements, standard time and fee, today's remote quota
 * left and the wait now), a day within the office's booking window, give NIK
 * and phone where the office asks, take the ticket, then go to its page
 * /t/<token>, which follows it live.
 *
 * The offer comes in the page data and again every REFRESH_MS from
 * GET /api/v1/remote/services (docs/protocol.md), so the quota and wait a
 * visitor reads are never old. One Idempotency-Key per ticket asked for: a
 * retry of the same request after a network failure cannot take two.
 */
(function () {
  'use strict';

  var A = window.Antre;
  var R = window.AntreRemote;
  var page = A.page;
  var REFRESH_MS = 30000;
  var root = A.byId('remote');
  var me = { offer: page.offer || {}, service: null, day: null, key: null, keyFor: null, busy: false };
  window.antreRemote = me; // for tests and debugging

  function showStep(step) {
    root.setAttribute('data-step', step);
    var steps = root.querySelectorAll('[data-step]');
    for (var i = 0; i < steps.length; i++) steps[i].hidden = steps[i].getAttribute('data-step') !== step;
    window.scrollTo(0, 0);
  }

  function offered(id) {
    var list = me.offer.services || [];
    for (var i = 0; i < list.length; i++) if (list[i].id === id) return list[i];
    return null;
  }

  function quotaText(s) {
    return s.remote_left > 0 ? A.msg('remote.quota_left', { n: s.remote_left }) : A.msg('remote.quota_full');
  }

  // The wait a ticket taken now would have: the estimate for the place behind everyone pending.
  function waitText(s) {
    if (!s.waiting) return A.msg('remote.wait_none');
    var wait = A.waitText({ position: s.waiting + 1, estimated_wait_minutes: s.estimated_wait_minutes,
      estimated_wait_range: s.estimated_wait_range });
    return A.msg('remote.wait_now', { wait: wait });
  }

  function renderList() {
    var list = A.byId('remote-list');
    A.clear(list);
    var services = me.offer.services || [];
    services.forEach(function (s) {
      var tile = A.make('button', 'service-tile remote-tile');
      tile.type = 'button';
      tile.setAttribute('data-remote-service', s.id);
      var head = A.make('span');
      head.appendChild(A.make('span', 'service-prefix', s.prefix));
      head.appendChild(A.make('span', 'service-name', s.name));
      tile.appendChild(head);
      var meta = [quotaText(s), waitText(s)];
      if (s.standard_minutes) meta.push(A.msg('kiosk.standard_time', { minutes: s.standard_minutes }));
      if (s.fee) meta.push(A.msg('kiosk.fee', { fee: s.fee }));
      tile.appendChild(A.make('span', 'service-meta', meta.join(' · ')));
      if (s.open === false) {
        tile.disabled = true;
        tile.appendChild(A.make('span', 'service-meta', A.msg('kiosk.service_closed')));
      }
      list.appendChild(tile);
    });
    A.show(A.byId('remote-none'), !services.length);
  }

  function dayLabel(iso) {
    if (iso === me.offer.today) return A.msg('remote.today');
    try {
      var fmt = new Intl.DateTimeFormat(page.lang === 'en' ? 'en-GB' : 'id-ID', {
        weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC'
      });
      return fmt.format(new Date(iso + 'T00:00:00Z'));
    } catch (err) {
      return iso; // an old browser without Intl dates: the ISO date still says which day
    }
  }

  function renderDays() {
    var days = R.bookingDays(me.offer.today, me.offer.book_days_ahead || 0);
    var select = A.byId('remote-day');
    A.clear(select);
    if (days.indexOf(me.day) < 0) me.day = days[0] || null;
    days.forEach(function (day) {
      var option = A.make('option', null, dayLabel(day));
      option.value = day;
      option.selected = day === me.day;
      select.appendChild(option);
    });
    // Today only: nothing to choose, so the choice is not shown.
    A.show(A.byId('remote-days-box'), days.length > 1);
  }

  function renderDetail() {
    var s = offered(me.service);
    if (!s) return;
    A.setText(A.byId('remote-name'), s.name);
    var list = A.byId('remote-requirements');
    A.clear(list);
    (s.requirements || []).forEach(function (r) {
      list.appendChild(A.make('li', null, r));
    });
    A.show(A.byId('remote-no-requirements'), !(s.requirements || []).length);
    A.setText(A.byId('remote-standard'), s.standard_minutes ? A.msg('kiosk.standard_time', { minutes: s.standard_minutes }) : '');
    A.setText(A.byId('remote-fee'), s.fee ? A.msg('kiosk.fee', { fee: s.fee }) : '');
    A.setText(A.byId('remote-quota'), quotaText(s));
    A.setText(A.byId('remote-wait'), waitText(s));
    var nik = me.offer.nik || 'off';
    A.show(A.byId('remote-personal'), nik !== 'off');
    A.byId('remote-nik').required = nik === 'required';
    A.setText(A.byId('remote-nik-note'), A.msg(nik === 'required' ? 'remote.nik_required' : 'remote.nik_optional'));
  }

  function render() {
    if (!me.offer.enabled) {
      showStep('disabled');
      return;
    }
    renderList();
    if (me.service) renderDetail();
  }

  function open(id) {
    if (!offered(id)) return;
    me.service = id;
    me.key = null;
    showError('');
    renderDays();
    renderDetail();
    showStep('form');
  }

  function showError(text) {
    var el = A.byId('remote-error');
    A.setText(el, text || '');
    A.show(el, !!text);
  }

  function body() {
    var b = { service: me.service, remote: true };
    if (me.day && me.day !== me.offer.today) b.date = me.day;
    if ((me.offer.nik || 'off') !== 'off') {
      var nik = A.byId('remote-nik').value.replace(/\s+/g, '');
      if (nik) b.nik = nik;
    }
    var phone = A.byId('remote-phone').value.replace(/[\s-]+/g, '');
    if (phone) b.phone = phone;
    return b;
  }

  function take() {
    if (me.busy || !me.service) return;
    var b = body();
    // Same request again (a retry after a failure): same key, so at most one ticket. Changed: a new one.
    var signature = JSON.stringify(b);
    if (!me.key || me.keyFor !== signature) {
      me.key = A.newKey();
      me.keyFor = signature;
    }
    me.busy = true;
    var button = A.byId('remote-take');
    button.disabled = true;
    A.setText(button, A.msg('remote.taking'));
    showError('');
    A.send('POST', '/api/v1/tickets', b, { key: me.key, retries: 3 }).then(function (res) {
      done();
      if ((res.status === 201 || res.status === 200) && res.body && res.body.token) {
        me.ticket = res.body;
        window.location.assign(A.at('/t/' + encodeURIComponent(res.body.token)));
        return;
      }
      var code = res.body && res.body.error && res.body.error.code;
      // A refusal is final for this request: asking again with other data is a new request.
      me.key = null;
      showError(A.errorText(res));
      if (code === 'remote_quota_reached' || code === 'remote_disabled') refresh();
    }, function () {
      done();
      showError(A.msg('error.network'));
    });
    function done() {
      me.busy = false;
      button.disabled = false;
      A.setText(button, A.msg('remote.take'));
    }
  }

  function refresh() {
    return A.request('GET', '/api/v1/remote/services', null).then(function (res) {
      A.show(A.byId('remote-load-error'), res.status !== 200);
      if (res.status !== 200 || !res.body) return;
      me.offer = res.body;
      render();
    }, function () {
      A.show(A.byId('remote-load-error'), true);
    });
  }

  A.byId('remote-list').addEventListener('click', function (e) {
    var tile = e.target && e.target.closest ? e.target.closest('[data-remote-service]') : null;
    if (tile && !tile.disabled) open(tile.getAttribute('data-remote-service'));
  });
  A.byId('remote-day').addEventListener('change', function (e) {
    me.day = e.target.value;
  });
  A.byId('remote-back').addEventListener('click', function () {
    me.service = null;
    showStep('services');
  });
  A.byId('remote-form').addEventListener('submit', function (e) {
    e.preventDefault();
    take();
  });

  render();
  me.refreshed = refresh();
  setInterval(refresh, REFRESH_MS);
})();
