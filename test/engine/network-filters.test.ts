// docker network ls / prune filters without a daemon: each key as dockerd reads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkListFilter, networkPruneFilter, untilOf, type NetworkFacts } from '../../src/engine/network-filters.js';

const nets: NetworkFacts[] = [
  { name: 'bridge', id: 'aaa111', driver: 'bridge', builtin: true, labels: {}, created: '2026-01-01T00:00:00Z', inUse: true },
  { name: 'front', id: 'bbb222', driver: 'bridge', builtin: false, labels: { tier: 'web', x: '' }, created: '2026-01-02T00:00:00Z', inUse: true },
  { name: 'back', id: 'ccc333', driver: 'bridge', builtin: false, labels: { tier: 'db' }, created: '2026-01-03T00:00:00Z', inUse: false },
];
const names = (f: Record<string, string[]>): string[] => nets.filter(networkListFilter(f)).map((n) => n.name);

test('ls: name is a substring, id a prefix, label key or key=value, type, dangling', () => {
  assert.deepEqual(names({ name: ['ron'] }), ['front']);
  assert.deepEqual(names({ id: ['ccc'] }), ['back']);
  assert.deepEqual(names({ label: ['tier'] }), ['front', 'back']);
  assert.deepEqual(names({ label: ['tier=db'] }), ['back']);
  assert.deepEqual(names({ type: ['custom'] }), ['front', 'back']);
  assert.deepEqual(names({ type: ['builtin'] }), ['bridge']);
  assert.deepEqual(names({ dangling: ['true'] }), ['back']);
  assert.deepEqual(names({ dangling: ['false'] }), ['bridge', 'front']);
  assert.deepEqual(names({ name: ['front', 'back'] }), ['front', 'back'], 'values of one key are ORed');
  assert.throws(() => networkListFilter({ color: ['red'] }), /Invalid filter 'color'/);
  assert.throws(() => networkListFilter({ type: ['other'] }), /invalid filter: 'type'='other'/);
});

test('prune: until (timestamp or duration ago), label and label!', () => {
  const keep = (f: Record<string, string[]>): string[] => nets.filter(networkPruneFilter(f)).map((n) => n.name);
  assert.deepEqual(keep({ until: ['2026-01-02T12:00:00Z'] }), ['bridge', 'front']);
  assert.deepEqual(keep({ 'label!': ['tier=web'] }), ['bridge', 'back']);
  assert.deepEqual(keep({ label: ['x'] }), ['front']);
  const now = Date.parse('2026-01-03T00:00:00Z');
  assert.equal(untilOf('1h30m', now), now - 90 * 60_000);
  assert.equal(untilOf('1767225600', now), 1767225600_000);
  assert.throws(() => untilOf('yesterday'), /neither a timestamp nor a duration/);
  assert.throws(() => networkPruneFilter({ name: ['x'] }), /Invalid filter 'name'/);
});
