/*
 * Entrance display, outside the door: may people come in now (green/red),
 * which numbers were just let in, and how full the office is.
 */
(function () {
  'use strict';

  var A = window.Antre;
  var SHOWN = 8;
  var FLASH_MS = 3300;
  // "Silakan masuk" is for now: a number let in an hour ago is not news to
  // anyone outside, and showing it invites the wrong person in.
  var FRESH_MS = 15 * 60 * 1000;
  var seen = null; // numbers already on screen, so only new ones flash
  var lastState = null;

  var live = A.startLive({
    onSnapshot: render,
    onEvent: function (ev, state) {
      render(state);
    }
  });
  window.antreEntrance = { live: live };
  // Old numbers age out even when no event comes.
  setInterval(function () {
    if (lastState) renderAdmitted(lastState.recent_admitted || []);
  }, 30000);

  function render(state) {
    lastState = state;
    var occ = state.occupancy || {};
    var inside = occ.inside || 0;
    var capacity = occ.capacity || 0;
    // Green only when someone without a ticket could walk in now: room left
    // and nobody with a ticket waiting outside ahead of them.
    var open = capacity > 0 && inside < capacity && !(occ.outside > 0);
    var sign = A.byId('sign');
    sign.classList.toggle('sign-open', open);
    sign.classList.toggle('sign-full', !open);
    A.setText(A.byId('sign-text'), open ? A.msg('entrance.open') : A.msg('entrance.full'));
    A.setText(A.byId('sign-hint'), open
      ? A.msg('entrance.open_hint', { free: Math.max(0, capacity - inside) })
      : A.msg('entrance.full_hint'));
    A.setText(A.byId('inside-capacity'), A.msg('entrance.inside_capacity', { inside: inside, capacity: capacity }));
    A.setText(A.byId('outside-count'), occ.outside > 0 ? A.msg('entrance.waiting_outside', { n: occ.outside }) : '');
    renderAdmitted(state.recent_admitted || []);
  }

  function renderAdmitted(admitted) {
    var list = A.byId('admitted');
    var now = live.serverNow ? live.serverNow() : Date.now();
    var shown = admitted.filter(function (item) {
      var at = Date.parse(item.at || '');
      return isNaN(at) || now - at < FRESH_MS;
    }).slice(0, SHOWN);
    var before = seen;
    seen = {};
    A.clear(list);
    shown.forEach(function (item) {
      var li = A.make('li');
      li.appendChild(A.make('span', 'number', item.number));
      li.appendChild(A.make('div', 'muted', A.msg('entrance.come_in')));
      if (before && !before[item.number]) {
        li.classList.add('is-new');
        setTimeout(function () {
          li.classList.remove('is-new');
        }, FLASH_MS);
      }
      seen[item.number] = true;
      list.appendChild(li);
    });
    A.show(A.byId('no-admitted'), !shown.length);
  }
})();
