/*
 * Antre ticket view: the pure rules of the visitor's ticket (phone page, kiosk
 * card). The ticket socket sends the whole view in every frame, so reducing is
 * taking the newest; the wait text turns the server's estimate into words a
 * visitor can trust: "Anda berikutnya" at position 1, else a rounded range
 * ("sekitar 10-15 menit"), never "0 minutes" while someone is ahead. No DOM;
 * loadable in node (tests/js/test_board.js).
 */
(function (global) {
  'use strict';

  /** Ticket socket frames: every frame carries the whole ticket. */
  function reduce(state, ev) {
    state = state || {};
    if (ev.ticket) state.ticket = ev.ticket;
    state.seq = ev.seq;
    state.last_type = ev.type;
    return state;
  }

  /**
   * The wait as text. msg(key, params) is the page's catalog lookup; keys used:
   * ticket.you_are_next, ticket.wait_range {low, high}, ticket.wait_value {minutes}.
   * Returns '–' when the ticket is no longer waiting.
   */
  function waitText(ticket, msg) {
    if (!ticket || ticket.position === null || ticket.position === undefined) return '–';
    if (ticket.position <= 1) return msg('ticket.you_are_next');
    var range = ticket.estimated_wait_range;
    if (Array.isArray(range) && range.length === 2) {
      return msg('ticket.wait_range', { low: range[0], high: range[1] });
    }
    var minutes = ticket.estimated_wait_minutes;
    if (minutes === null || minutes === undefined) return '–';
    return msg('ticket.wait_value', { minutes: Math.max(1, minutes) });
  }

  var AntreTicketView = { reduce: reduce, waitText: waitText };
  global.AntreTicketView = AntreTicketView;
  if (typeof module !== 'undefined' && module.exports) module.exports = AntreTicketView;
})(typeof window !== 'undefined' ? window : typeof globalThis !== 'undefined' ? globalThis : this);
