// The pure board reducer (live/board.js) and ticket wait text (live/ticket.js), in node.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const JS = path.join(__dirname, '..', '..', 'queue_server', 'web', 'static', 'js');
const Board = require(path.join(JS, 'live', 'board.js'));
const TicketView = require(path.join(JS, 'live', 'ticket.js'));

function ticket(id, number, status, extra) {
  return Object.assign({ id: id, number: number, service: 'a', status: status, party_size: 1, counter: null }, extra || {});
}

function snapshot() {
  return {
    seq: 10,
    services: [{ id: 'a', name: 'A', prefix: 'A', waiting: 2 }],
    counters: [{ id: '1', name: 'Loket 1', open: true, current: null }, { id: '2', name: 'Loket 2', open: true, current: null }],
    waiting: { a: 2 },
    queues: { a: [ticket(1, 'A001', 'waiting'), ticket(2, 'A002', 'waiting')] },
    occupancy: { inside: 2, capacity: 10, outside: 0, outside_people: 0 },
    recent_calls: [],
    recent_admitted: []
  };
}

test('a recall moves the call to the front instead of adding a second entry', () => {
  let s = Board.fromSnapshot(snapshot());
  s = Board.reduce(s, { type: 'ticket.called', seq: 11, at: '2026-11-27T08:00:01+08:00', counter: '1', ticket: ticket(1, 'A001', 'called', { counter: '1' }), waiting: { a: 1 } });
  s = Board.reduce(s, { type: 'ticket.called', seq: 12, at: '2026-11-27T08:00:02+08:00', counter: '2', ticket: ticket(2, 'A002', 'called', { counter: '2' }), waiting: { a: 0 } });
  s = Board.reduce(s, { type: 'ticket.recalled', seq: 13, at: '2026-11-27T08:00:09+08:00', counter: '1', ticket: ticket(1, 'A001', 'called', { counter: '1' }), waiting: { a: 0 } });
  assert.deepEqual(s.recent_calls.map((c) => [c.number, c.at]), [['A001', '2026-11-27T08:00:09+08:00'], ['A002', '2026-11-27T08:00:02+08:00']]);
});

test('a snapshot with two entries for one number keeps only the newest', () => {
  const snap = snapshot();
  snap.recent_calls = [
    { number: 'A001', counter: '1', at: '2026-11-27T08:00:01+08:00' },
    { number: 'A001', counter: '1', at: '2026-11-27T08:00:05+08:00' }
  ];
  assert.deepEqual(Board.fromSnapshot(snap).recent_calls.map((c) => c.at), ['2026-11-27T08:00:05+08:00']);
});

test('queues follow calls, admissions and transfers in place order', () => {
  let s = Board.fromSnapshot(snapshot());
  s = Board.reduce(s, { type: 'ticket.called', seq: 11, at: 'x', counter: '1', ticket: ticket(1, 'A001', 'called', { counter: '1' }) });
  assert.deepEqual(s.queues.a.map((t) => t.number), ['A002']);
  s = Board.reduce(s, { type: 'ticket.issued', seq: 12, at: 'x', ticket: ticket(3, 'A003', 'outside', { party_size: 2 }) });
  assert.deepEqual(s.queues.a.map((t) => [t.number, t.status, t.party_size]), [['A002', 'waiting', 1], ['A003', 'outside', 2]]);
  // A transferred ticket keeps its place by id, ahead of later ones.
  s = Board.reduce(s, { type: 'ticket.transferred', seq: 13, at: 'x', from_counter: '1', ticket: ticket(1, 'A001', 'waiting') });
  assert.deepEqual(s.queues.a.map((t) => t.number), ['A001', 'A002', 'A003']);
  assert.equal(s.counters[0].current, null);
});

test('ticket.undone puts the called ticket back in its queue and the previous visitor at the counter', () => {
  let s = Board.fromSnapshot(snapshot());
  const a1 = ticket(1, 'A001', 'serving', { counter: '1' });
  s = Board.reduce(s, { type: 'ticket.called', seq: 11, at: '2026-11-27T08:00:01+08:00', counter: '1', ticket: ticket(1, 'A001', 'called', { counter: '1' }) });
  s = Board.reduce(s, { type: 'ticket.serving', seq: 12, at: 'x', counter: '1', ticket: a1 });
  s = Board.reduce(s, { type: 'ticket.done', seq: 13, at: 'x', counter: '1', ticket: ticket(1, 'A001', 'done', { counter: '1' }) });
  s = Board.reduce(s, { type: 'ticket.called', seq: 14, at: '2026-11-27T08:00:05+08:00', counter: '1', ticket: ticket(2, 'A002', 'called', { counter: '1' }) });
  s = Board.reduce(s, { type: 'ticket.undone', seq: 15, at: 'x', counter: '1', ticket: ticket(2, 'A002', 'waiting'), waiting: { a: 1 } });
  s = Board.reduce(s, { type: 'ticket.undone', seq: 16, at: 'x', counter: '1', ticket: a1, waiting: { a: 1 } });
  assert.equal(s.counters[0].current.number, 'A001');
  assert.equal(s.counters[0].current.status, 'serving');
  assert.deepEqual(s.queues.a.map((t) => t.number), ['A002']);
  assert.deepEqual(s.recent_calls.map((c) => c.number), ['A001']);
  assert.equal(s.seq, 16);
});

test('nextNumbers counts outside apart from waiting and lists only those inside', () => {
  const s = Board.fromSnapshot(snapshot());
  s.queues.a.push(ticket(3, 'A003', 'outside'));
  const [a] = Board.nextNumbers(s, ['a'], 6);
  assert.equal(a.waiting, 2);
  assert.equal(a.outside, 1);
  assert.deepEqual(a.next.map((t) => t.number), ['A001', 'A002']);
});

test('day.started empties the queues and the recent calls', () => {
  let s = Board.fromSnapshot(snapshot());
  s = Board.reduce(s, { type: 'day.started', seq: 11, at: 'x', day: '2026-11-28' });
  assert.deepEqual(s.queues.a, []);
  assert.equal(s.day, '2026-11-28');
});

test('the wait reads "you are next" at position 1 and a range further back, never zero', () => {
  const msg = (key, p) => key + (p ? JSON.stringify(p) : '');
  assert.equal(TicketView.waitText({ position: 1, estimated_wait_minutes: 0, estimated_wait_range: null }, msg), 'ticket.you_are_next');
  assert.equal(TicketView.waitText({ position: 3, estimated_wait_minutes: 12, estimated_wait_range: [10, 15] }, msg), 'ticket.wait_range{"low":10,"high":15}');
  assert.equal(TicketView.waitText({ position: 2, estimated_wait_minutes: 0 }, msg), 'ticket.wait_value{"minutes":1}');
  assert.equal(TicketView.waitText({ position: null }, msg), '–');
});
