/*
 * Report and survey pages (admin): the print buttons. Everything else is
 * server-rendered; htmx swaps the report when the period form changes.
 */
(function () {
  'use strict';
  document.addEventListener('click', function (e) {
    var target = e.target;
    if (target && target.closest && target.closest('[data-print]')) window.print();
  });
})();
