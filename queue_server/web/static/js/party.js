/*
 * Antre party-size picker, shared by the kiosk and the door: "how many of you
 * come in?" with a minus and a plus button around the number. The limit is the
 * office's capacity, at most 10 (a bigger group talks to the door keeper).
 *
 *   var party = AntreParty.create({minus: el, plus: el, value: el, max: 10,
 *                                  onChange: function (n) {}});
 *   party.value(); party.reset();
 */
(function (global) {
  'use strict';

  var LARGEST = 10;

  function clamp(n, max) {
    return Math.max(1, Math.min(max, n));
  }

  function create(opts) {
    var max = clamp(opts.max || 1, LARGEST);
    var n = 1;
    function render() {
      if (opts.value) opts.value.textContent = String(n);
      if (opts.minus) opts.minus.disabled = n <= 1;
      if (opts.plus) opts.plus.disabled = n >= max;
    }
    function set(next) {
      next = clamp(next, max);
      var changed = next !== n;
      n = next;
      render();
      if (changed && typeof opts.onChange === 'function') opts.onChange(n);
    }
    if (opts.minus) {
      opts.minus.addEventListener('click', function () {
        set(n - 1);
      });
    }
    if (opts.plus) {
      opts.plus.addEventListener('click', function () {
        set(n + 1);
      });
    }
    render();
    return {
      value: function () {
        return n;
      },
      reset: function () {
        n = 1;
        render();
      },
      render: render
    };
  }

  var AntreParty = { create: create, LARGEST: LARGEST };
  global.AntreParty = AntreParty;
  if (typeof module !== 'undefined' && module.exports) module.exports = AntreParty;
})(typeof window !== 'undefined' ? window : typeof globalThis !== 'undefined' ? globalThis : this);
