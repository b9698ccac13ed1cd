// The cron parser against robfig/cron's behaviour (what Kubernetes accepts and
// the messages it returns), next-time computation in UTC and in a zone with
// daylight saving, and the Job back-off (10 s doubled, at most 6 min).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatInZone, nextAfter, parseSchedule, scheduleError } from '../../src/kube/api/cron-schedule.js';
import { backoffDelay, backoffRemaining, formatIndexes, parseIndexes } from '../../src/controllers/job-pods.js';

const at = (s: string): number => Date.parse(s);
const next = (spec: string, after: string, tz = 'UTC'): string | undefined => {
  const t = nextAfter(parseSchedule(spec), at(after), tz);
  return t === undefined ? undefined : new Date(t).toISOString();
};

test('accepts what robfig ParseStandard accepts', () => {
  for (const ok of ['* * * * *', '*/1 * * * *', '0 0 1 1 *', '5,10-20/5 1-3 ? JAN-mar mon-FRI', '30 6-16/4 * * 1-5', '0 0 * * sun', '@hourly', '@daily', '@midnight', '@weekly', '@monthly', '@yearly', '@annually', '@every 1h30m', '15/10 * * * *']) {
    assert.equal(scheduleError(ok), undefined, ok);
  }
});

test('rejects with robfig messages', () => {
  assert.equal(scheduleError('* * * *'), 'expected exactly 5 fields, found 4: [* * * *]');
  assert.equal(scheduleError('* * * * * *'), 'expected exactly 5 fields, found 6: [* * * * * *]');
  assert.equal(scheduleError('60 * * * *'), 'end of range (60) above maximum (59): 60');
  assert.equal(scheduleError('* * 0 * *'), 'beginning of range (0) below minimum (1): 0');
  assert.equal(scheduleError('* * * * 7'), 'end of range (7) above maximum (6): 7');
  assert.equal(scheduleError('5-1 * * * *'), 'beginning of range (5) beyond end of range (1): 5-1');
  assert.equal(scheduleError('*/0 * * * *'), 'step of range should be a positive number: */0');
  assert.equal(scheduleError('foo * * * *'), 'failed to parse int from foo: strconv.Atoi: parsing "foo": invalid syntax');
  assert.equal(scheduleError('1-2-3 * * * *'), 'too many hyphens: 1-2-3');
  assert.equal(scheduleError('@fortnightly'), 'unrecognized descriptor: @fortnightly');
  assert.equal(scheduleError(''), 'empty spec string');
});

test('next activation in UTC', () => {
  assert.equal(next('*/1 * * * *', '2026-12-06T03:50:30Z'), '2026-12-06T03:51:00.000Z');
  assert.equal(next('*/1 * * * *', '2026-12-06T03:51:00Z'), '2026-12-06T03:52:00.000Z');
  assert.equal(next('*/15 * * * *', '2026-12-06T03:50:30Z'), '2026-12-06T04:00:00.000Z');
  assert.equal(next('@hourly', '2026-12-06T03:50:30Z'), '2026-12-06T04:00:00.000Z');
  assert.equal(next('@yearly', '2026-12-06T03:50:30Z'), '2027-01-01T00:00:00.000Z');
  assert.equal(next('@monthly', '2026-12-31T23:59:00Z'), '2027-01-01T00:00:00.000Z');
  assert.equal(next('0 12 * * mon', '2026-12-06T03:50:30Z'), '2026-12-07T12:00:00.000Z'); // 2026-12-06 is a Sunday
  assert.equal(next('0 0 29 2 *', '2026-03-01T00:00:00Z'), '2028-02-29T00:00:00.000Z');
  assert.equal(next('0 0 30 2 *', '2026-03-01T00:00:00Z'), undefined);
  assert.equal(next('@every 90s', '2026-12-06T03:50:30Z'), '2026-12-06T03:52:00.000Z');
});

test('day of month and day of week: either matches unless one is a star', () => {
  // The 13th or any Friday.
  assert.equal(next('0 0 13 * 5', '2026-12-06T00:00:00Z'), '2026-12-11T00:00:00.000Z');
  // Star day of month: Fridays only.
  assert.equal(next('0 0 * * 5', '2026-12-12T00:00:00Z'), '2026-12-18T00:00:00.000Z');
  // A step over the star is no star: "*/2" days of month OR Fridays.
  assert.equal(next('0 0 */2 * 5', '2026-12-06T12:00:00Z'), '2026-12-07T00:00:00.000Z');
});

test('time zones, across a daylight saving change', () => {
  assert.equal(next('0 9 * * *', '2026-12-06T00:00:00Z', 'Europe/Paris'), '2026-12-06T08:00:00.000Z');
  assert.equal(next('0 9 * * *', '2026-07-06T00:00:00Z', 'Europe/Paris'), '2026-07-06T07:00:00.000Z');
  // New York springs forward on 2026-03-08: 02:30 does not exist that day.
  assert.equal(next('30 3 * * *', '2026-03-08T00:00:00Z', 'America/New_York'), '2026-03-08T07:30:00.000Z');
  assert.equal(next('30 3 * * *', '2026-03-07T00:00:00Z', 'America/New_York'), '2026-03-07T08:30:00.000Z');
  assert.equal(formatInZone(at('2026-12-06T08:00:00Z'), 'Europe/Paris'), '2026-12-06T09:00:00+01:00');
  assert.equal(formatInZone(at('2026-12-06T08:00:00Z'), 'UTC'), '2026-12-06T08:00:00Z');
  assert.equal(formatInZone(at('2026-12-06T08:00:00Z'), 'America/New_York'), '2026-12-06T03:00:00-05:00');
});

test('job back-off: 10 s doubled per failure since the last success, capped at 6 min', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 20].map(backoffDelay), [0, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 360_000, 360_000]);
  const now = 1_000_000;
  assert.equal(backoffRemaining([], 0, now), 0);
  assert.equal(backoffRemaining([now - 4000], 0, now), 6000);
  assert.equal(backoffRemaining([now - 50_000, now - 5000], 0, now), 15_000);
  // Failures before the last success do not count.
  assert.equal(backoffRemaining([now - 50_000, now - 5000], now - 10_000, now), 5000);
  assert.equal(backoffRemaining([now - 60_000], 0, now), 0);
});

test('completed indexes as Kubernetes writes them', () => {
  assert.equal(formatIndexes([4, 0, 1, 2, 6, 7]), '0-2,4,6-7');
  assert.equal(formatIndexes([]), '');
  assert.deepEqual([...parseIndexes('0-2,4,6-7', 7)].sort(), [0, 1, 2, 4, 6]);
});
