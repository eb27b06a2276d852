/*
 * Antre remote ticket view: the PURE rules of issue 11's ticket on a phone
 * (remote and booked tickets, "come now", route steps, priority, rejoin) and
 * of the /remote booking form's day list. No DOM; loadable in node
 * (tests/js/test_remote.js). Words come from the page's catalog via msg().
 */
(function (global) {
  'use strict';

  /**
   * Whether this new view should alert the visitor "please come now": the
   * server turned come_now on for a ticket still at home. Only a change is
   * news: the first view (before null) and repeats stay quiet, so a reconnect
   * or a position update does not ring again; come_now going off and on again
   * (a counter closed, then reopened) rings again.
   */
  function comeNowAlert(before, after) {
    if (!before || !after) return false;
    var now = after.status === 'remote' && after.come_now === true;
    var was = before.status === 'remote' && before.come_now === true;
    return now && !was;
  }

  /** "Langkah 2 dari 3: Pengambilan dokumen" for a ticket on a route of 2+ steps, else ''. */
  function stepText(ticket, msg, serviceName) {
    var route = ticket && ticket.route;
    if (!Array.isArray(route) || route.length < 2 || !ticket.step) return '';
    var id = route[ticket.step - 1] || ticket.service;
    return msg('ticket.step', { step: ticket.step, steps: route.length, service: serviceName(id) });
  }

  /** The priority category in words ("Lansia"), '' for a normal ticket. */
  function priorityText(ticket, msg, has) {
    var p = ticket && ticket.priority;
    if (!p) return '';
    return has('priority.' + p) ? msg('priority.' + p) : String(p).replace(/_/g, ' ');
  }

  /** A no-show of today may ask to rejoin (the server decides whether it still may). */
  function canRejoin(ticket, today) {
    return !!ticket && ticket.status === 'no_show' && !!today && ticket.day === today;
  }

  /**
   * The days a visitor may book: today, then up to daysAhead more, as
   * 'YYYY-MM-DD'. today is the office's local date from the server (the
   * phone's own clock and time zone may be wrong); the sums are done in UTC so
   * no daylight-saving or offset moves a day.
   */
  function bookingDays(today, daysAhead) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(today || '');
    if (!m) return [];
    var start = Date.UTC(+m[1], +m[2] - 1, +m[3]);
    var days = [];
    for (var i = 0; i <= Math.max(0, daysAhead || 0); i++) {
      days.push(new Date(start + i * 86400000).toISOString().slice(0, 10));
    }
    return days;
  }

  var AntreRemote = {
    comeNowAlert: comeNowAlert,
    stepText: stepText,
    priorityText: priorityText,
    canRejoin: canRejoin,
    bookingDays: bookingDays
  };
  global.AntreRemote = AntreRemote;
  if (typeof module !== 'undefined' && module.exports) module.exports = AntreRemote;
})(typeof window !== 'undefined' ? window : typeof globalThis !== 'undefined' ? globalThis : this);
