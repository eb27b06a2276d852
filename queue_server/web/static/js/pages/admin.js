/*
 * The admin pages (/admin, /admin/live): forms send JSON to the API through
 * an htmx extension ("antre-json"); on success a confirmation shows and the
 * section is re-rendered by the server (htmx swaps it in), so what the page
 * shows is what was committed. Plain ES2017, no build.
 *
 * Field types come from data-json on each input: int (empty -> null), bool
 * (a checkbox), boolstr ("true"/"false"), lines (one per line), csv (comma
 * separated), omit-empty (left out when blank); otherwise the string.
 */
(function (global) {
  'use strict';

  var doc = global.document;
  var htmx = global.htmx;
  var Antre = global.Antre;

  function valueOf(el) {
    var kind = el.getAttribute('data-json');
    var raw = el.value;
    if (kind === 'bool') return !!el.checked;
    if (kind === 'boolstr') return raw === 'true';
    if (kind === 'int') return raw.trim() === '' ? null : parseInt(raw, 10);
    if (kind === 'lines') return raw.split('\n').map(function (s) { return s.trim(); }).filter(Boolean);
    if (kind === 'csv') return raw.split(',').map(function (s) { return s.trim(); }).filter(Boolean);
    return raw;
  }

  function collect(root) {
    var body = {};
    if (!root || !root.elements) return body;
    Array.prototype.forEach.call(root.elements, function (el) {
      if (!el.name || el.disabled) return;
      if (el.getAttribute('data-json') === 'omit-empty' && el.value === '') return;
      body[el.name] = valueOf(el);
    });
    // "Always open" makes the weekly ranges meaningless: send only that.
    if (body.always_open === true) return { always_open: true };
    if ('always_open' in body) delete body.always_open;
    return body;
  }

  htmx.defineExtension('antre-json', {
    onEvent: function (name, evt) {
      if (name === 'htmx:configRequest') evt.detail.headers['Content-Type'] = 'application/json';
    },
    encodeParameters: function (xhr, parameters, elt) {
      xhr.overrideMimeType('text/json');
      var form = elt.tagName === 'FORM' ? elt : elt.closest('form');
      return JSON.stringify(collect(form));
    }
  });

  var toastTimer = null;
  function toast(text, isError) {
    var el = doc.getElementById('admin-toast');
    if (!el) return;
    el.textContent = text;
    el.className = 'toast admin-toast' + (isError ? ' toast-error' : ' admin-toast-ok');
    el.hidden = false;
    if (toastTimer) global.clearTimeout(toastTimer);
    toastTimer = global.setTimeout(function () { el.hidden = true; }, isError ? 10000 : 5000);
  }

  function errorText(xhr) {
    try {
      var error = JSON.parse(xhr.responseText).error;
      var key = 'error.' + error.code;
      var word = Antre.has(key) ? Antre.msg(key) : '';
      // The server's own sentence names the exact field or value; the catalog word says what kind.
      return word ? word + ' — ' + error.message : error.message;
    } catch (err) {
      return Antre.msg('common.error_generic');
    }
  }

  function refresh(section) {
    if (section === 'live' || !doc.getElementById(section)) {
      htmx.trigger(doc.body, 'antre:changed');
      return;
    }
    htmx.ajax('GET', global.location.pathname + global.location.search, {
      target: '#' + section, select: '#' + section, swap: 'outerHTML'
    });
  }

  doc.body.addEventListener('htmx:afterRequest', function (evt) {
    var elt = evt.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute('data-admin-form')) return;
    var xhr = evt.detail.xhr;
    if (!evt.detail.successful) {
      toast(errorText(xhr), true);
      return;
    }
    toast(Antre.msg('admin.saved'), false);
    if (elt.hasAttribute('data-shows-pairing')) {
      var link = doc.getElementById('pairing-link');
      var answer = JSON.parse(xhr.responseText);
      link.textContent = Antre.msg('admin.pairing_link', { url: global.location.origin + answer.pair_url });
      link.hidden = false;
    }
    if (elt.tagName === 'FORM' && elt.hasAttribute('hx-post') && elt.id) elt.reset();
    refresh(elt.getAttribute('data-section'));
  });

  global.antreAdmin = { collect: collect };
})(window);
