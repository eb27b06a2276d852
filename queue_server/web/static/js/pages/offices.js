/*
 * The regency page (/offices): every office's waiting, inside and outside counts, refreshed
 * every few seconds from GET /api/v1/offices. A failed refresh keeps the last figures and says so.
 */
(function () {
  'use strict';

  var REFRESH_MS = 5000;
  var messages = JSON.parse(document.getElementById('antre-messages').textContent || '{}');

  function text(key, fallback) {
    return messages[key] || fallback;
  }

  function setField(row, name, value) {
    var cell = row.querySelector('[data-field="' + name + '"]');
    if (cell) cell.textContent = value;
  }

  function refresh() {
    fetch('/api/v1/offices', { headers: { Accept: 'application/json' }, cache: 'no-store' })
      .then(function (res) {
        if (!res.ok) throw new Error('status ' + res.status);
        return res.json();
      })
      .then(function (offices) {
        offices.forEach(function (o) {
          var row = document.querySelector('tr[data-office="' + o.id + '"]');
          if (!row) return;
          setField(row, 'waiting', String(o.waiting));
          setField(row, 'inside', o.inside + ' / ' + o.capacity);
          setField(row, 'outside', String(o.outside));
        });
        document.getElementById('offices-updated').textContent =
          text('offices.updated', 'Updated') + ' ' + new Date().toLocaleTimeString();
      })
      .catch(function () {
        document.getElementById('offices-updated').textContent = text('offices.offline', 'Offline');
      })
      .then(function () {
        setTimeout(refresh, REFRESH_MS);
      });
  }

  setTimeout(refresh, REFRESH_MS);
})();
