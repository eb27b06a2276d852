/*
 * Lobby display: every counter's current number, the newest call big, the
 * last calls, waiting per service, occupancy, and a spoken announcement of
 * every call (announcer.js queues them so none talks over another).
 */
(function () {
  'use strict';

  var A = window.Antre;
  var page = A.page;
  var LAST_CALLS = 8;
  var FLASH_MS = 3300; // four flashes of antre-flash in antre.css

  // Before the live client starts, so the first live call is already heard.
  var announcer = new window.AntreAnnouncer({
    lang: page.lang === 'en' ? 'en' : 'id',
    enableLabel: A.msg('common.enable_sound')
  });
  announcer.connect();

  var announcing = null; // the call being spoken now: it owns the big hero block
  var lastState = null;
  var shownAt = {}; // counter id -> number shown, to flash a row when it changes

  var live = A.startLive({
    onSnapshot: render,
    onEvent: function (ev, state) {
      A.updateConfig(ev);
      render(state);
    }
  });

  document.addEventListener('antre:announce-start', function (e) {
    announcing = e.detail;
    if (lastState) renderHero(lastState);
  });
  document.addEventListener('antre:announce-end', function () {
    announcing = null;
    if (lastState) renderHero(lastState);
  });

  function render(state) {
    lastState = state;
    renderHero(state);
    renderCounters(state);
    renderLastCalls(state);
    renderWaiting(state);
    renderTicker(state);
    renderOccupancy(state.occupancy || {});
  }

  function renderHero(state) {
    var hero = A.byId('hero');
    var newest = (state.recent_calls || [])[0];
    var call = announcing ? { number: announcing.number, counter: announcing.counter } : newest;
    A.show(A.byId('no-calls'), !call);
    A.show(hero, !!call);
    if (!call) return;
    A.setText(A.byId('hero-number'), call.number);
    A.setText(A.byId('hero-counter'), A.msg('display.go_to_counter', { counter: A.counterName(call.counter, state) }));
    // The called ticket's own view (at its counter) says whether it is a priority visitor.
    var ticket = currentTicket(state, call.number);
    var mark = A.byId('hero-priority');
    var priority = ticket ? window.AntreRemote.priorityText(ticket, A.msg, A.has) : '';
    A.setText(mark, priority);
    A.show(mark, !!priority);
    hero.classList.toggle('is-announcing', !!announcing);
  }

  function currentTicket(state, number) {
    var list = state.counters || [];
    for (var i = 0; i < list.length; i++) {
      if (list[i].current && list[i].current.number === number) return list[i].current;
    }
    return null;
  }

  function renderCounters(state) {
    var box = A.byId('counter-rows');
    A.clear(box);
    (state.counters || []).forEach(function (c) {
      var row = A.make('div', 'call-row');
      row.setAttribute('data-counter', c.id);
      var number = c.current ? c.current.number : '';
      var label;
      if (!c.open) {
        row.classList.add('is-closed');
        label = c.reason && A.has('common.reason.' + c.reason)
          ? A.msg('common.reason.' + c.reason) : A.msg('display.counter_closed');
      } else if (!c.current) {
        label = A.msg('display.counter_idle');
      }
      var num = A.make('span', 'number', number || '—');
      // Issue 11: "P" beside a priority visitor's number, and the route step under the counter.
      if (c.current && c.current.priority) {
        row.classList.add('is-priority');
        var badge = A.make('span', 'priority-badge', A.msg('priority.mark'));
        badge.setAttribute('title', window.AntreRemote.priorityText(c.current, A.msg, A.has));
        num.appendChild(badge);
      }
      row.appendChild(num);
      var side = A.make('span', 'counter-label', c.name);
      if (label) side.appendChild(A.make('span', 'counter-note', label));
      var step = c.current ? window.AntreRemote.stepText(c.current, A.msg, A.serviceName) : '';
      if (step) side.appendChild(A.make('span', 'counter-note counter-step', step));
      row.appendChild(side);
      if (number && shownAt[c.id] !== undefined && shownAt[c.id] !== number) {
        row.classList.add('is-new');
        setTimeout(function () {
          row.classList.remove('is-new');
        }, FLASH_MS);
      }
      shownAt[c.id] = number;
      box.appendChild(row);
    });
  }

  function renderLastCalls(state) {
    var list = A.byId('last-calls');
    A.clear(list);
    (state.recent_calls || []).slice(0, LAST_CALLS).forEach(function (call) {
      var li = A.make('li');
      li.appendChild(A.make('span', 'number', call.number));
      li.appendChild(A.make('span', null, A.counterName(call.counter, state)));
      list.appendChild(li);
    });
  }

  function renderTicker(state) {
    // The running text follows config.changed (the admin page), like the services and counters.
    var text = state.office && typeof state.office.running_text === 'string' ? state.office.running_text : null;
    var ticker = A.byId('ticker');
    if (!ticker || text === null) return;
    A.setText(ticker.querySelector('span'), text);
    ticker.hidden = !text;
  }

  function renderWaiting(state) {
    var grid = A.byId('waiting');
    A.clear(grid);
    var waiting = state.waiting || {};
    // The live list (config.changed renames or adds services), the page's list before the first snapshot.
    (state.services || page.services || []).forEach(function (s) {
      grid.appendChild(A.make('span', null, s.name));
      grid.appendChild(A.make('span', 'count', waiting[s.id] || 0));
    });
  }

  function renderOccupancy(occ) {
    var capacity = occ.capacity || 0;
    var inside = occ.inside || 0;
    A.setText(A.byId('occupancy-value'), A.msg('display.occupancy_value', { inside: inside, capacity: capacity }));
    var meter = A.byId('occupancy-meter');
    var fill = capacity ? Math.min(10, Math.round((inside / capacity) * 10)) : 0;
    meter.setAttribute('data-fill', String(fill));
    meter.classList.toggle('is-full', capacity > 0 && inside >= capacity);
  }

  window.antreDisplay = { live: live, announcer: announcer };
})();
