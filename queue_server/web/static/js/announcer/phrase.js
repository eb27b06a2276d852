/*
 * Antre announcer phrases: the PURE part of a spoken call. A ticket number and
 * a counter become the list of clips to play ("nomor antrean", "A", "nol",
 * "nol", "tiga", "silakan menuju loket", "dua") and the sentence to show or
 * to give speechSynthesis. No audio, no DOM: loadable in node
 * (tests/js/test_phrase.js). announcer/player.js plays what this builds.
 */
(function (global) {
  'use strict';

  /* ---------- phrase building (pure; also runs under node) ---------- */

  var LANGS = {
    id: {
      intro: 'nomor antrean',
      toCounter: 'silakan menuju loket',
      digits: ['nol', 'satu', 'dua', 'tiga', 'empat', 'lima', 'enam', 'tujuh', 'delapan', 'sembilan'],
      counterWords: ['loket'],
      speechLang: 'id-ID',
      enableLabel: 'Aktifkan suara',
      numberWords: function (n) {
        var d = this.digits;
        if (n < 10) return [d[n]];
        if (n === 10) return ['sepuluh'];
        if (n === 11) return ['sebelas'];
        if (n < 20) return [d[n - 10], 'belas'];
        if (n < 100) {
          var out = [d[Math.floor(n / 10)], 'puluh'];
          if (n % 10) out.push(d[n % 10]);
          return out;
        }
        if (n === 100) return ['seratus'];
        return null;
      },
      format: function (p) {
        // "Nomor antrean, A, nol, nol, tiga, silakan menuju loket, dua"
        return [cap(p.intro)].concat(p.number, [p.toCounter, p.counter]).join(', ');
      }
    },
    en: {
      intro: 'number',
      toCounter: 'please go to counter',
      digits: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'],
      counterWords: ['counter'],
      speechLang: 'en-US',
      enableLabel: 'Enable sound',
      numberWords: function (n) {
        var small = this.digits.concat(['ten', 'eleven', 'twelve', 'thirteen', 'fourteen',
          'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen']);
        var tens = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
        if (n < 20) return [small[n]];
        if (n < 100) {
          var out = [tens[Math.floor(n / 10)]];
          if (n % 10) out.push(small[n % 10]);
          return out;
        }
        if (n === 100) return ['one hundred'];
        return null;
      },
      format: function (p) {
        // "Number A zero zero three, please go to counter two"
        return cap(p.intro) + ' ' + p.number.join(' ') + ', ' + p.toCounter + ' ' + p.counter;
      }
    }
  };

  function cap(s) {
    return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
  }

  function spell(str, L) {
    // Letters as letter clips ("A"), digits as digit words; anything else is
    // not speakable from clips.
    var out = [];
    var s = String(str).toUpperCase();
    for (var i = 0; i < s.length; i++) {
      var ch = s.charAt(i);
      if (ch >= 'A' && ch <= 'Z') out.push(ch);
      else if (ch >= '0' && ch <= '9') out.push(L.digits[Number(ch)]);
      else if (ch === ' ' || ch === '-' || ch === '_') continue;
      else return null;
    }
    return out.length ? out : null;
  }

  function numberWords(n, lang) {
    var L = LANGS[lang] || LANGS.id;
    return L.numberWords(n);
  }

  function stripCounterWord(name, L) {
    // "Loket Pengaduan" after "silakan menuju loket" would say "loket" twice.
    var s = String(name || '').trim();
    for (var i = 0; i < L.counterWords.length; i++) {
      var w = L.counterWords[i];
      if (s.toLowerCase().indexOf(w + ' ') === 0) return s.slice(w.length + 1).trim();
    }
    return s;
  }

  /**
   * Build the spoken form of one call.
   * counter: id string/number, or {id, name}. Returns
   * {lang, text, tokens (clip keys incl. 'chime'), parts: [{clips:[...]} | {tts: '...'}]}
   * where a {tts} part is used when the counter cannot be said with clips
   * (non-numeric id that is not short letters/digits).
   */
  function buildPhrase(number, counter, lang, opts) {
    var L = LANGS[lang] || LANGS.id;
    var withChime = !opts || opts.chime !== false;
    var cid = counter !== null && typeof counter === 'object' ? counter.id : counter;
    var cname = counter !== null && typeof counter === 'object' ? counter.name : null;
    cid = cid === null || cid === undefined ? '' : String(cid);

    var numTokens = spell(number, L) || [];
    var counterTokens = null;
    var counterTts = null;
    if (/^\d+$/.test(cid)) {
      counterTokens = L.numberWords(Number(cid)) || spell(cid, L);
    } else if (/^[a-z0-9]{1,3}$/i.test(cid)) {
      counterTokens = spell(cid, L);
    }
    if (!counterTokens) {
      counterTts = stripCounterWord(cname || cid, L) || cid;
    }
    var counterText = counterTokens ? counterTokens.join(' ') : counterTts;
    var text = L.format({
      intro: L.intro,
      number: numTokens,
      toCounter: L.toCounter,
      counter: counterText
    });
    var parts = [];
    if (withChime) parts.push({ clips: ['chime'], gapAfter: 'chime' });
    parts.push({ clips: [L.intro] });
    parts.push({ clips: numTokens });
    parts.push({ clips: [L.toCounter] });
    parts.push(counterTokens ? { clips: counterTokens } : { tts: counterTts });
    var tokens = [];
    parts.forEach(function (p) {
      if (p.clips) tokens = tokens.concat(p.clips);
    });
    return { lang: lang, text: text, tokens: tokens, parts: parts, speech: text };
  }

  var AntrePhrase = {
    buildPhrase: buildPhrase,
    numberWords: numberWords,
    spell: spell,
    LANGS: LANGS
  };
  global.AntrePhrase = AntrePhrase;
  if (typeof module !== 'undefined' && module.exports) module.exports = AntrePhrase;
})(typeof window !== 'undefined' ? window : typeof globalThis !== 'undefined' ? globalThis : this);
