// The kiosk's scanner rules (checkin/scanner.js) and the remote ticket's rules (live/remote.js), in node.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const JS = path.join(__dirname, '..', '..', 'queue_server', 'web', 'static', 'js');
const Scanner = require(path.join(JS, 'checkin', 'scanner.js'));
const Remote = require(path.join(JS, 'live', 'remote.js'));

const TOKEN = 'Qm9vZ2xlLXRva2VuLXRoYXQtaXMtNDMtY2hhcnMtbG9uZw';

function type(detector, text, start, gap) {
  let t = start;
  let out = null;
  for (const ch of text) {
    out = detector.feed(ch, t) || out;
    t += gap;
  }
  return { out: detector.feed('Enter', t), end: t };
}

test('a fast burst ended by Enter is a scan', () => {
  const d = Scanner.createDetector();
  assert.equal(type(d, TOKEN, 1000, 5).out, TOKEN);
});

test('a person typing the same characters slowly is not a scan', () => {
  const d = Scanner.createDetector();
  assert.equal(type(d, TOKEN, 1000, 120).out, null);
});

test('a steady fast typist (60 ms a key) is still a person', () => {
  const d = Scanner.createDetector();
  assert.equal(type(d, TOKEN, 1000, 60).out, null);
});

test('one late key in the burst (a busy kiosk for a moment) does not lose the scan', () => {
  const d = Scanner.createDetector();
  let t = 0;
  TOKEN.split('').forEach((ch, i) => {
    t += i === 20 ? 80 : 4;
    d.feed(ch, t);
  });
  assert.equal(d.feed('Enter', t + 4), TOKEN);
});

test('slow keys before the burst are dropped, not glued to the scan', () => {
  const d = Scanner.createDetector();
  d.feed('x', 0);
  d.feed('y', 300);
  assert.equal(type(d, TOKEN, 1000, 4).out, TOKEN);
});

test('a short burst (a bounced key, a stray code) is not a ticket', () => {
  const d = Scanner.createDetector();
  assert.equal(type(d, 'abc', 0, 3).out, null);
});

test('Enter long after the burst is a person pressing Enter, not the scanner', () => {
  const d = Scanner.createDetector();
  for (let i = 0; i < TOKEN.length; i++) d.feed(TOKEN[i], i * 5);
  assert.equal(d.feed('Enter', TOKEN.length * 5 + 500), null);
});

test('Shift between capitals keeps the burst; an arrow key breaks it', () => {
  const d = Scanner.createDetector();
  let t = 0;
  for (const ch of TOKEN) {
    d.feed('Shift', t);
    d.feed(ch, t + 1);
    t += 6;
  }
  assert.equal(d.feed('Enter', t), TOKEN);
  for (const ch of TOKEN) d.feed(ch, (t += 5));
  d.feed('ArrowLeft', (t += 5));
  assert.equal(d.feed('Enter', (t += 5)), null);
});

test('typing() is true only during a long fast burst (so Enter may be held back)', () => {
  const d = Scanner.createDetector();
  assert.equal(d.typing(0), false);
  for (let i = 0; i < 20; i++) d.feed('a', i * 5);
  assert.equal(d.typing(100), true);
  assert.equal(d.typing(1000), false);
});

test('the token comes from a bare token or from the ticket URL, with or without an office path', () => {
  assert.equal(Scanner.tokenFromScan(TOKEN), TOKEN);
  assert.equal(Scanner.tokenFromScan(`http://192.168.1.10:8000/t/${TOKEN}`), TOKEN);
  assert.equal(Scanner.tokenFromScan(`https://antre.example/o/kandangan/t/${TOKEN}?lang=en`), TOKEN);
  assert.equal(Scanner.tokenFromScan(`  ${TOKEN}\n`), TOKEN);
});

test('anything else is no token', () => {
  assert.equal(Scanner.tokenFromScan('A012'), null);
  assert.equal(Scanner.tokenFromScan('http://example.com/kiosk'), null);
  assert.equal(Scanner.tokenFromScan('not a token with spaces in it'), null);
  assert.equal(Scanner.tokenFromScan(null), null);
});

const remote = (extra) => ({ status: 'remote', come_now: false, position: 9, ...extra });

test('come now alerts once, when the server turns it on for a ticket at home', () => {
  assert.equal(Remote.comeNowAlert(remote(), remote({ come_now: true })), true);
  assert.equal(Remote.comeNowAlert(remote({ come_now: true }), remote({ come_now: true, position: 2 })), false);
  assert.equal(Remote.comeNowAlert(remote(), remote({ position: 5 })), false);
});

test('the first view is not news, even when it already says come now', () => {
  assert.equal(Remote.comeNowAlert(null, remote({ come_now: true })), false);
});

test('come now off and on again rings again; a checked-in ticket never does', () => {
  assert.equal(Remote.comeNowAlert(remote({ come_now: false }), remote({ come_now: true })), true);
  assert.equal(Remote.comeNowAlert(remote({ come_now: true }), { status: 'waiting', come_now: true }), false);
});

const msg = (key, p) => `${key}${p ? ' ' + JSON.stringify(p) : ''}`;
const names = { reg: 'Pendaftaran', ambil: 'Pengambilan dokumen' };

test('a route shows "step n of m" with the step service name; a one-step ticket shows nothing', () => {
  const t = { service: 'ambil', route: ['reg', 'ambil'], step: 2 };
  assert.equal(Remote.stepText(t, msg, (id) => names[id]),
    'ticket.step {"step":2,"steps":2,"service":"Pengambilan dokumen"}');
  assert.equal(Remote.stepText({ service: 'reg', route: ['reg'], step: 1 }, msg, (id) => names[id]), '');
  assert.equal(Remote.stepText({ service: 'reg' }, msg, (id) => names[id]), '');
});

test('priority words come from the catalog, an unknown category is shown as written', () => {
  const has = (k) => k === 'priority.lansia';
  assert.equal(Remote.priorityText({ priority: 'lansia' }, msg, has), 'priority.lansia');
  assert.equal(Remote.priorityText({ priority: 'veteran_perang' }, msg, has), 'veteran perang');
  assert.equal(Remote.priorityText({ priority: null }, msg, has), '');
});

test('only a no-show of today offers rejoin', () => {
  assert.equal(Remote.canRejoin({ status: 'no_show', day: '2026-12-02' }, '2026-12-02'), true);
  assert.equal(Remote.canRejoin({ status: 'no_show', day: '2026-12-01' }, '2026-12-02'), false);
  assert.equal(Remote.canRejoin({ status: 'done', day: '2026-12-02' }, '2026-12-02'), false);
});

test('booking days run from the office today over the window, across a month and a year end', () => {
  assert.deepEqual(Remote.bookingDays('2026-12-30', 3), ['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02']);
  assert.deepEqual(Remote.bookingDays('2026-12-30', 0), ['2026-12-30']);
  assert.deepEqual(Remote.bookingDays('bad', 3), []);
});
