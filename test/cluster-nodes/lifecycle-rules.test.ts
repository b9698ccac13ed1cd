// The rules under the node lifecycle (no cluster needed): the taint manager's
// tolerationSeconds arithmetic, which taints a node's Ready status calls for,
// PodDisruptionBudget int-or-percent scaling, the host claim conflicts and the
// duration flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evictionTime, reconcileTaints, wantedConditionTaints } from '../../src/controllers/node-taints.js';
import { scaled } from '../../src/controllers/disruption-controller.js';
import { conflictOf } from '../../src/node/host-claims.js';
import { parseDurationMs, positiveInt } from '../../src/util/duration-flag.js';
import { defaultTolerationSeconds } from '../../src/apiserver/default-toleration-seconds.js';

const unreachable = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' };
const t0 = Date.parse(unreachable.timeAdded);

test('evictionTime: untolerated now, tolerated forever never, else the shortest tolerationSeconds after the taint was added', () => {
  assert.equal(evictionTime([unreachable], [], t0), 'now');
  assert.equal(evictionTime([unreachable], [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }], t0), 'now');
  assert.equal(evictionTime([unreachable], [{ operator: 'Exists' }], t0), 'never');
  assert.equal(evictionTime([unreachable], [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 4 }], t0), t0 + 4000);
  assert.equal(
    evictionTime([unreachable], [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 30 }, { operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 7 }], t0),
    t0 + 7000,
  );
  // NoSchedule taints never evict.
  assert.equal(evictionTime([{ key: 'x', effect: 'NoSchedule' }], [], t0), 'never');
  assert.equal(evictionTime([unreachable], [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: -3 }], t0), t0);
});

test('the taints a node gets from its Ready status and spec.unschedulable, keeping other taints and the time a NoExecute one was added', () => {
  assert.deepEqual(wantedConditionTaints('True', false), []);
  assert.deepEqual(
    wantedConditionTaints('Unknown', true).map((t) => `${t.key}:${t.effect}`),
    ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unschedulable:NoSchedule'],
  );
  assert.deepEqual(wantedConditionTaints('False', false).map((t) => `${t.key}:${t.effect}`), ['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/not-ready:NoSchedule']);
  const mine = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
  const added = reconcileTaints([mine], wantedConditionTaints('Unknown', false), '2026-01-01T00:00:05Z')!;
  assert.deepEqual(added, [mine, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:05Z' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }]);
  assert.equal(reconcileTaints(added, wantedConditionTaints('Unknown', false), 'later'), undefined, 'nothing changes: timeAdded stays');
  assert.deepEqual(reconcileTaints(added, wantedConditionTaints('True', false), 'later'), [mine]);
});

test('int-or-percent budgets: percentages of the scale round up', () => {
  assert.equal(scaled(2, 10), 2);
  assert.equal(scaled('50%', 3), 2);
  assert.equal(scaled('10%', 5), 1);
  assert.equal(scaled('0%', 5), 0);
  assert.ok(Number.isNaN(scaled('half', 4)));
});

test('host claims: another node with the same bridge or an overlapping pod range is named with the flag to change; the same data dir is a restart', () => {
  const other = { pid: 4242, command: 'tug server', dataDir: '/var/lib/tug', bridge: 'tugpod0', podCidr: '10.89.0.0/16' };
  assert.match(conflictOf({ command: 'tug server', dataDir: '/tmp/b', bridge: 'tugpod0', podCidr: '10.90.0.0/16' }, [other])!, /pod bridge tugpod0 is already used by another tug node on this machine \(tug server, pid 4242, data dir \/var\/lib\/tug\): give this one another --node-bridge/);
  assert.match(conflictOf({ command: 'tug agent', dataDir: '/tmp/b', bridge: 'tugpod1', podCidr: '10.89.3.0/24' }, [other])!, /pod range 10\.89\.3\.0\/24 \(and the cluster DNS address 10\.89\.3\.1 on it\) overlaps 10\.89\.0\.0\/16 .*--pod-cidr/);
  assert.equal(conflictOf({ command: 'tug server', dataDir: '/var/lib/tug/', bridge: 'tugpod0', podCidr: '10.89.0.0/16' }, [other]), undefined);
  assert.equal(conflictOf({ command: 'tug agent', dataDir: '/tmp/b', bridge: 'tugpod1', podCidr: '10.90.0.0/16' }, [other]), undefined);
  // Nodes in network namespaces of their own (one machine's netns-nodes) share no bridge or route; the same netns still clashes.
  const inNs = { ...other, netns: 'net:[4026532001]' };
  assert.equal(conflictOf({ command: 'tug agent', dataDir: '/tmp/b', bridge: 'tugpod0', podCidr: '10.89.0.0/24', netns: 'net:[4026532002]' }, [inNs]), undefined);
  assert.match(conflictOf({ command: 'tug agent', dataDir: '/tmp/b', bridge: 'tugpod0', netns: 'net:[4026532001]' }, [inNs])!, /pod bridge tugpod0/);
  // An agent that learns its range from the node IPAM later claims its bridge alone.
  assert.equal(conflictOf({ command: 'tug agent', dataDir: '/tmp/b', bridge: 'tugpod1' }, [other]), undefined);
});

test('duration and seconds flags', () => {
  assert.equal(parseDurationMs('2s', 'x'), 2000);
  assert.equal(parseDurationMs('1500ms', 'x'), 1500);
  assert.equal(parseDurationMs('1m', 'x'), 60_000);
  assert.equal(parseDurationMs('3', 'x'), 3000);
  assert.throws(() => parseDurationMs('soon', '--node-monitor-grace-period'), /--node-monitor-grace-period "soon" is not a duration/);
  assert.throws(() => parseDurationMs('0s', '--g'), /is not a duration/);
  assert.equal(positiveInt(undefined, 'x'), undefined);
  assert.equal(positiveInt('0', 'x', true), 0);
  assert.throws(() => positiveInt('0', '--node-lease-duration-seconds'), /--node-lease-duration-seconds "0" is not a positive whole number/);
  assert.throws(() => positiveInt('1.5', '--d', true), /is not a non-negative whole number/);
});

test('DefaultTolerationSeconds: added to pods that lack them, never over a toleration the pod has', async () => {
  const admit = defaultTolerationSeconds({ notReadySeconds: 7, unreachableSeconds: 9 });
  const podType = { kind: 'Pod', group: '' } as any;
  const bare: any = { spec: {} };
  await admit(podType, bare);
  assert.deepEqual(bare.spec.tolerations, [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 7 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 9 },
  ]);
  const own: any = { spec: { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 600 }] } };
  await admit(podType, own);
  assert.deepEqual(
    own.spec.tolerations.map((t: any) => `${t.key}=${t.tolerationSeconds}`),
    ['node.kubernetes.io/unreachable=600', 'node.kubernetes.io/not-ready=7'],
  );
  const all: any = { spec: { tolerations: [{ operator: 'Exists' }] } };
  await admit(podType, all);
  assert.equal(all.spec.tolerations.length, 1);
  const cm: any = { data: {} };
  await admit({ kind: 'ConfigMap', group: '' } as any, cm);
  assert.equal(cm.spec, undefined);
});
