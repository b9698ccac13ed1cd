// The Lease elector (src/kube/client/leader-election.ts). First against a small
// in-memory Lease API with resourceVersion checks and a switch that makes
// every request hang (a server or network gone silent), then against a real
// `tug server`: one leader of several candidates, the record's fields as
// client-go writes them, and a released Lease taken over at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TugError } from '../../src/errdefs.js';
import type { KubeObject, ResourceRef } from '../../src/kube/client/kube-client.js';
import { KubeClient } from '../../src/kube/client/kube-client.js';
import { LeaderElector, leaseRef, validateTimings } from '../../src/kube/client/leader-election.js';
import { startTestServer, suffix } from '../cluster/test-server.js';
import { parseServerArgs } from '../../src/cluster/main.js';

/** One Lease, optimistic concurrency as the API server does it; hang makes requests never answer. */
class LeaseApi {
  lease: KubeObject | null = null;
  private rv = 0;
  hang = false;
  private wait<T>(v: () => T): Promise<T> {
    return this.hang ? new Promise<T>(() => undefined) : Promise.resolve().then(v);
  }
  getOrNull<T>(_ref: ResourceRef, _name: string): Promise<T | null> {
    return this.wait(() => structuredClone(this.lease) as T | null);
  }
  create<T>(_ref: ResourceRef, obj: object): Promise<T> {
    return this.wait(() => {
      if (this.lease) throw new TugError('already-exists', 'exists');
      this.lease = { ...(obj as KubeObject), metadata: { ...(obj as KubeObject).metadata, resourceVersion: String(++this.rv) } };
      return structuredClone(this.lease) as T;
    });
  }
  update<T>(_ref: ResourceRef, obj: KubeObject): Promise<T> {
    return this.wait(() => {
      if (obj.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) throw new TugError('conflict', 'the object has been modified');
      this.lease = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
      return structuredClone(this.lease) as T;
    });
  }
}

const timings = { leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 50 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, fn: () => boolean, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (fn()) return;
    await sleep(50);
  }
  throw new Error(`gave up waiting for ${what}`);
}

function candidate(client: Pick<KubeClient, 'getOrNull' | 'create' | 'update'>, identity: string, log: string[], name = 'test-lease', t = timings) {
  return new LeaderElector({ client, namespace: 'kube-system', name, identity, ...t, onStartedLeading: () => log.push(`${identity} started`), onStoppedLeading: () => log.push(`${identity} stopped`) });
}

test('durations are checked against each other, naming the flag', () => {
  assert.throws(() => validateTimings({ leaseDurationMs: 3000, renewDeadlineMs: 3000, retryPeriodMs: 500 }), /--leader-elect-lease-duration .* must be longer than --leader-elect-renew-deadline/);
  assert.throws(() => validateTimings({ leaseDurationMs: 4000, renewDeadlineMs: 500, retryPeriodMs: 500 }), /--leader-elect-renew-deadline .* must be longer than --leader-elect-retry-period/);
});

test('--leader-elect defaults to true on etcd and false on SQLite (one server only); either can be set', () => {
  const elect = (...args: string[]): boolean => {
    const parsed = parseServerArgs(['--data-dir', '/x', ...args]);
    assert.notEqual(parsed, 'help');
    return parsed !== 'help' && parsed.leaderElection !== undefined;
  };
  const etcd = ['--store', 'etcd', '--etcd-endpoints', 'http://127.0.0.1:2379'];
  assert.equal(elect(), false);
  assert.equal(elect(...etcd), true);
  assert.equal(elect('--leader-elect'), true);
  assert.equal(elect('--leader-elect=true'), true);
  assert.equal(elect(...etcd, '--leader-elect=false'), false);
  assert.throws(() => parseServerArgs(['--data-dir', '/x', '--leader-elect=maybe']), /--leader-elect="maybe": say true or false/);
});

test('of two candidates one leads; the other takes over only after the leader went silent for the lease duration', async () => {
  const api = new LeaseApi();
  const log: string[] = [];
  const a = candidate(api, 'a', log);
  a.run();
  await until('a leads', () => a.isLeader);
  const b = candidate(api, 'b', log);
  b.run();
  // b keeps seeing a renew: it never leads while a is alive (many retry periods).
  await sleep(timings.leaseDurationMs * 3);
  assert.equal(b.isLeader, false);
  assert.equal(api.lease!.spec.holderIdentity, 'a');
  assert.equal(api.lease!.spec.leaseTransitions, 0);
  // a stops renewing without releasing (as if its process hung): b waits the lease duration, then takes it.
  (a as unknown as { stopped: boolean }).stopped = true;
  await until('b leads', () => b.isLeader);
  assert.equal(api.lease!.spec.holderIdentity, 'b');
  assert.equal(api.lease!.spec.leaseTransitions, 1);
  assert.ok(api.lease!.spec.acquireTime <= api.lease!.spec.renewTime);
  await b.stop();
  // a, no longer renewing, stopped its own work at its renew deadline: before b started.
  assert.deepEqual(log, ['a started', 'a stopped', 'b started', 'b stopped']);
  // A stopped leader releases the Lease: holder emptied.
  assert.equal(api.lease!.spec.holderIdentity, '');
});

test('the leader renews with one write per round, no read; a write by someone else sends it back to reading', async () => {
  const api = new LeaseApi();
  const calls: string[] = [];
  const counted = {
    getOrNull: <T>(ref: ResourceRef, name: string) => (calls.push('get'), api.getOrNull<T>(ref, name)),
    create: <T>(ref: ResourceRef, obj: object) => (calls.push('create'), api.create<T>(ref, obj)),
    update: <T>(ref: ResourceRef, obj: KubeObject) => (calls.push('update'), api.update<T>(ref, obj)),
  };
  const log: string[] = [];
  const a = candidate(counted, 'a', log);
  a.run();
  await until('a leads', () => a.isLeader);
  const rvWhenLeading = Number(api.lease!.metadata.resourceVersion);
  calls.length = 0;
  await until('a renewed 5 times', () => Number(api.lease!.metadata.resourceVersion) >= rvWhenLeading + 5);
  assert.ok(calls.length >= 5);
  assert.deepEqual(new Set(calls), new Set(['update']), 'renewals are updates only');
  // Someone else takes the Lease (as a candidate would after a's silence): a's next renewal
  // conflicts, it reads the Lease, sees the other holder and stops at once.
  api.lease = { ...api.lease!, spec: { ...api.lease!.spec, holderIdentity: 'b', renewTime: new Date().toISOString() }, metadata: { ...api.lease!.metadata, resourceVersion: String(Number(api.lease!.metadata.resourceVersion) + 100) } };
  // Keep b's record fresh, so a sees a live holder.
  const keepFresh = setInterval(() => {
    api.lease = { ...api.lease!, spec: { ...api.lease!.spec, renewTime: new Date().toISOString() }, metadata: { ...api.lease!.metadata, resourceVersion: String(Number(api.lease!.metadata.resourceVersion) + 1) } };
  }, 20);
  try {
    await until('a stops', () => !a.isLeader);
    assert.ok(calls.includes('get'), 'after the conflict, a read the Lease');
    assert.deepEqual(log, ['a started', 'a stopped']);
    assert.equal(api.lease!.spec.holderIdentity, 'b');
  } finally {
    clearInterval(keepFresh);
    await a.stop();
  }
});

test('a leader whose renewals hang stops at the renew deadline, before anyone else may start', async () => {
  const api = new LeaseApi();
  const events: { who: string; at: number }[] = [];
  const mk = (id: string) =>
    new LeaderElector({ client: api, namespace: 'kube-system', name: 'hang', identity: id, ...timings, onStartedLeading: () => events.push({ who: `${id} started`, at: performance.now() }), onStoppedLeading: () => events.push({ who: `${id} stopped`, at: performance.now() }) });
  const a = mk('a');
  a.run();
  await until('a leads', () => a.isLeader);
  api.hang = true;
  await until('a stops', () => !a.isLeader);
  assert.deepEqual(events.map((e) => e.who), ['a started', 'a stopped']);
  // Now the API answers again, to a new candidate and to a (which campaigns again).
  api.hang = false;
  const b = mk('b');
  b.run();
  await until('someone leads', () => a.isLeader || b.isLeader);
  await sleep(timings.leaseDurationMs * 2);
  assert.equal(Number(a.isLeader) + Number(b.isLeader), 1, 'exactly one leader');
  // Never two at once: every start follows the previous leader's stop.
  let leaders = 0;
  for (const e of events) {
    leaders += e.who.endsWith('started') ? 1 : -1;
    assert.ok(leaders <= 1, `two leaders at once: ${events.map((x) => x.who).join(', ')}`);
  }
  await a.stop();
  await b.stop();
});

test('on a real server: three candidates, exactly one leader, a Lease as client-go writes it; a released Lease moves to another', async () => {
  const server = await startTestServer();
  const clients: KubeClient[] = [];
  const electors: LeaderElector[] = [];
  // tug's defaults: a busy shared machine must not make a healthy leader miss its deadline.
  const real = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };
  try {
    const name = `le-${suffix()}`;
    const log: string[] = [];
    for (const id of ['x', 'y', 'z']) {
      const c = await KubeClient.fromKubeconfig(server.kubeconfig);
      clients.push(c);
      electors.push(candidate(c, id, log, name, real));
    }
    for (const e of electors) e.run();
    await until('one leader', () => electors.some((e) => e.isLeader));
    // Over several renewals, never more than one.
    for (let i = 0; i < 20; i++) {
      assert.ok(electors.filter((e) => e.isLeader).length <= 1);
      await sleep(250);
    }
    const leader = electors.find((e) => e.isLeader)!;
    assert.ok(leader);
    const lease = JSON.parse((await server.kubectl(['-n', 'kube-system', 'get', 'lease', name, '-o', 'json'])).stdout);
    assert.equal(lease.spec.holderIdentity, leader.identity);
    assert.equal(lease.spec.leaseDurationSeconds, 4);
    assert.match(lease.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.match(lease.spec.acquireTime, /^\d{4}-\d\d-\d\dT/);
    assert.equal(lease.spec.leaseTransitions, 0);
    // The leader steps down cleanly (releases the Lease): another one leads.
    await leader.stop();
    await until('another leader', () => electors.some((e) => e !== leader && e.isLeader));
    const moved = JSON.parse((await server.kubectl(['-n', 'kube-system', 'get', 'lease', name, '-o', 'json'])).stdout);
    assert.notEqual(moved.spec.holderIdentity, leader.identity);
    assert.equal(moved.spec.leaseTransitions, 1);
    assert.deepEqual(log.slice(0, 2), [`${leader.identity} started`, `${leader.identity} stopped`]);
    for (const e of electors) await e.stop();
    assert.equal((await clients[0].get<KubeObject>(leaseRef('kube-system'), name)).spec.holderIdentity, '');
  } finally {
    for (const e of electors) await e.stop();
    for (const c of clients) c.close();
    await server.stop();
  }
});
