/*
 * Antre board: the PURE reducer of a display snapshot and office events into
 * the board a screen shows (docs/protocol.md "Snapshot" and "Events"). No DOM,
 * no timers, no network: the same rules as the server's domain.py snapshot, so
 * that after any event stream the board equals GET /api/v1/state. Loadable in
 * node for tests (tests/js/test_board.js): `require('.../live/board.js')`.
 *
 * Rules worth knowing:
 * - recent_calls holds one entry per ticket number, newest first; a recall
 *   moves the entry to the front with the new time (it does not add a second).
 * - queues: per service, the tickets not yet called (remote, outside, waiting),
 *   in place order, each {id, number, status, party_size, priority}; a ticket event's view
 *   carries its `position` right after the event, so it goes in at that index.
 * - ticket.undone: the ticket is as it was before the undone step: back at its
 *   counter, or back in its queue (and then its call is forgotten).
 */
(function (global) {
  'use strict';

  var KEEP_RECENT = 10;

  function isObj(x) {
    return x !== null && typeof x === 'object' && !Array.isArray(x);
  }

  function findCounter(state, id) {
    var list = state.counters || [];
    for (var i = 0; i < list.length; i++) {
      if (String(list[i].id) === String(id)) return list[i];
    }
    return null;
  }

  function sameTicket(a, b) {
    if (!a || !b) return false;
    if (a.id !== undefined && b.id !== undefined) return a.id === b.id;
    return a.number === b.number;
  }

  function sortNewestFirst(list) {
    // ISO times of one office share an offset, so string order is time order.
    if (!Array.isArray(list)) return [];
    return list.slice().sort(function (a, b) {
      var x = a.at || '';
      var y = b.at || '';
      return x < y ? 1 : x > y ? -1 : 0;
    });
  }

  function onePerNumber(list) {
    var seen = {};
    return list.filter(function (x) {
      if (seen[x.number]) return false;
      seen[x.number] = true;
      return true;
    });
  }

  function copyQueues(queues) {
    var out = {};
    if (!isObj(queues)) return out;
    Object.keys(queues).forEach(function (k) {
      out[k] = Array.isArray(queues[k]) ? queues[k].map(function (t) {
        return Object.assign({}, t);
      }) : [];
    });
    return out;
  }

  /** A fresh board from a snapshot (the snapshot itself is not changed). */
  function fromSnapshot(snap) {
    var s = Object.assign({}, snap);
    s.counters = Array.isArray(s.counters) ? s.counters.map(function (c) {
      return Object.assign({}, c);
    }) : [];
    s.services = Array.isArray(s.services) ? s.services.map(function (x) {
      return Object.assign({}, x);
    }) : [];
    s.waiting = isObj(s.waiting) ? Object.assign({}, s.waiting) : {};
    s.queues = copyQueues(s.queues);
    s.occupancy = isObj(s.occupancy) ? Object.assign({}, s.occupancy) : {};
    s.recent_calls = onePerNumber(sortNewestFirst(s.recent_calls));
    s.recent_admitted = sortNewestFirst(s.recent_admitted);
    return s;
  }

  function setWaiting(state, waiting) {
    state.waiting = Object.assign({}, waiting);
    (state.services || []).forEach(function (svc) {
      if (Object.prototype.hasOwnProperty.call(waiting, svc.id)) svc.waiting = waiting[svc.id];
    });
  }

  function pushRecent(list, item, keep, sameFn) {
    var out = [item];
    (list || []).forEach(function (x) {
      if (!sameFn(x)) out.push(x);
    });
    return out.slice(0, keep);
  }

  function placeInQueues(state, ticket) {
    var queues = state.queues || (state.queues = {});
    Object.keys(queues).forEach(function (k) {
      queues[k] = queues[k].filter(function (t) {
        return t.id !== ticket.id;
      });
    });
    var pending = ticket.status === 'waiting' || ticket.status === 'outside' || ticket.status === 'remote';
    if (!pending) return;
    var list = queues[ticket.service] || (queues[ticket.service] = []);
    var entry = {
      id: ticket.id,
      number: ticket.number,
      status: ticket.status,
      party_size: ticket.party_size,
      priority: ticket.priority === undefined ? null : ticket.priority,
    };
    var i = 0;
    if (typeof ticket.position === 'number') {
      i = ticket.position - 1;
    } else {
      // A view without a position (not the server's): by id, the issue order.
      while (i < list.length && list[i].id < ticket.id) i++;
    }
    list.splice(i, 0, entry);
  }

  /**
   * Apply one office event to a board. Mutates and returns `state`.
   * Unknown event types only move `seq`.
   */
  function reduce(state, ev, keepRecent) {
    var keep = keepRecent || KEEP_RECENT;
    var t = ev.type;
    var ticket = ev.ticket;
    if (isObj(ev.waiting)) setWaiting(state, ev.waiting);
    if (ticket && t.indexOf('ticket.') === 0) {
      var active = ticket.status === 'called' || ticket.status === 'serving';
      var here = ev.counter !== undefined && ev.counter !== null && !isObj(ev.counter);
      // A ticket sits at most at one counter: clear it wherever it no longer is.
      (state.counters || []).forEach(function (c) {
        if (c.current && sameTicket(c.current, ticket)) {
          if (active && here && String(c.id) === String(ev.counter)) c.current = ticket;
          else if (!active || here) c.current = null;
        }
      });
      if (active && here) {
        var counter = findCounter(state, ev.counter);
        if (counter) counter.current = ticket;
      }
      placeInQueues(state, ticket);
      if (t === 'ticket.called' || t === 'ticket.recalled') {
        state.recent_calls = pushRecent(
          state.recent_calls,
          { number: ticket.number, counter: ev.counter, at: ev.at, service: ticket.service },
          Math.max(keep, (state.recent_calls || []).length),
          function (x) {
            return x.number === ticket.number;
          }
        );
      } else if (t === 'ticket.undone' && !active) {
        // The call was taken back: it never happened for the lobby.
        state.recent_calls = (state.recent_calls || []).filter(function (x) {
          return x.number !== ticket.number;
        });
      } else if (t === 'ticket.admitted') {
        state.recent_admitted = pushRecent(
          state.recent_admitted,
          { number: ticket.number, at: ev.at },
          Math.max(keep, (state.recent_admitted || []).length),
          function (x) {
            return x.number === ticket.number;
          }
        );
      }
    } else if (t === 'occupancy.changed' && isObj(ev.occupancy)) {
      state.occupancy = Object.assign({}, ev.occupancy);
    } else if ((t === 'counter.opened' || t === 'counter.closed') && isObj(ev.counter)) {
      var existing = findCounter(state, ev.counter.id);
      if (existing) Object.assign(existing, ev.counter);
      else (state.counters = state.counters || []).push(Object.assign({}, ev.counter));
    } else if (t === 'config.changed') {
      if (Array.isArray(ev.services)) {
        state.services = ev.services.map(function (svc) {
          var copy = Object.assign({}, svc);
          if (copy.waiting === undefined && state.waiting) copy.waiting = state.waiting[svc.id] || 0;
          state.queues = state.queues || {};
          if (!state.queues[svc.id]) state.queues[svc.id] = [];
          return copy;
        });
      }
      if (Array.isArray(ev.counters)) {
        state.counters = ev.counters.map(function (c) {
          var copy = Object.assign({}, c);
          var old = findCounter(state, c.id);
          if (!('current' in copy)) copy.current = old ? old.current : null;
          return copy;
        });
      }
      if (typeof ev.running_text === 'string') {
        state.office = Object.assign({}, state.office || {}, { running_text: ev.running_text });
      }
    } else if (t === 'day.started') {
      state.day = ev.day;
      state.recent_calls = [];
      state.recent_admitted = [];
      Object.keys(state.queues || {}).forEach(function (k) {
        state.queues[k] = [];
      });
      (state.counters || []).forEach(function (c) {
        c.current = null;
      });
    }
    state.seq = ev.seq;
    state.at = ev.at;
    return state;
  }

  /** The next `limit` numbers of each of `services` (waiting inside) and how many wait outside. */
  function nextNumbers(state, services, limit) {
    return (services || []).map(function (id) {
      var list = (state.queues && state.queues[id]) || [];
      var inside = list.filter(function (t) {
        return t.status === 'waiting';
      });
      return {
        service: id,
        waiting: inside.length,
        outside: list.length - inside.length,
        next: inside.slice(0, limit || 6)
      };
    });
  }

  var AntreBoard = {
    fromSnapshot: fromSnapshot,
    reduce: reduce,
    nextNumbers: nextNumbers,
    findCounter: findCounter,
    KEEP_RECENT: KEEP_RECENT
  };

  global.AntreBoard = AntreBoard;
  if (typeof module !== 'undefined' && module.exports) module.exports = AntreBoard;
})(typeof window !== 'undefined' ? window : typeof globalThis !== 'undefined' ? globalThis : this);
