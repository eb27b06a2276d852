// The pure announcer phrase builder (announcer/phrase.js), in node.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const Phrase = require(path.join(__dirname, '..', '..', 'queue_server', 'web', 'static', 'js', 'announcer', 'phrase.js'));

test('an Indonesian call becomes chime, intro, letter, digits, "to counter", counter number', () => {
  const p = Phrase.buildPhrase('A003', '2', 'id');
  assert.deepEqual(p.tokens, ['chime', 'nomor antrean', 'A', 'nol', 'nol', 'tiga', 'silakan menuju loket', 'dua']);
  assert.equal(p.text, 'Nomor antrean, A, nol, nol, tiga, silakan menuju loket, dua');
});

test('counter numbers are said as numbers: 11 is "sebelas", 25 "dua puluh lima"', () => {
  assert.deepEqual(Phrase.numberWords(11, 'id'), ['sebelas']);
  assert.deepEqual(Phrase.numberWords(25, 'id'), ['dua', 'puluh', 'lima']);
  assert.deepEqual(Phrase.numberWords(13, 'en'), ['thirteen']);
});

test('a counter with a name is spoken with speech, without saying "loket" twice', () => {
  const p = Phrase.buildPhrase('B012', { id: 'pengaduan', name: 'Loket Pengaduan' }, 'id', { chime: false });
  assert.deepEqual(p.parts[p.parts.length - 1], { tts: 'Pengaduan' });
  assert.ok(!p.tokens.includes('chime'));
});

test('English phrases use the English clips', () => {
  const p = Phrase.buildPhrase('C101', '3', 'en', { chime: false });
  assert.deepEqual(p.tokens, ['number', 'C', 'one', 'zero', 'one', 'please go to counter', 'three']);
});
