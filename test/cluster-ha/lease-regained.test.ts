// A server that loses its Leases and wins them back (what a busy API server
// does to a leader whose renewals come too late) starts its scheduler and
// controllers again from warm informer caches: no pod is listed again, and the
// controllers act as before. The Leases are taken by writing another holder
// into them, as a second server would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, suffix, type TestServer } from '../cluster/test-server.js';
import { until as untilShared, type UntilOptions } from '../helpers/until.js';

let s: TestServer | undefined;
const ns = `lr-${suffix()}`;
const leases = ['kube-scheduler', 'kube-controller-manager'];

const until = <T>(what: string, fn: () => Promise<T | undefined | false>, o: UntilOptions = {}): Promise<T> => untilShared(what, fn, { tries: 480, ...o });

async function lease(name: string): Promise<{ holderIdentity?: string; leaseTransitions?: number }> {
  return JSON.parse((await s!.kubectl(['-n', 'kube-system', 'get', 'lease', name, '-o', 'json'])).stdout).spec;
}

/** LIST requests for pods the API server has answered so far (every label combination summed). */
async function podLists(): Promise<number> {
  const text = (await s!.kubectl(['get', '--raw', '/metrics'])).stdout;
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('apiserver_request_total{') && line.includes('verb="LIST"') && line.includes('resource="pods"')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

before(async () => {
  // On SQLite leader election is off unless asked for (one server only).
  s = await startTestServer({ extraArgs: ['--leader-elect'] });
  await s.kubectl(['create', 'namespace', ns]);
});

after(async () => {
  await s?.stop();
});

test('Leases taken away and won back: the controllers act again, and no pod list is repeated', async () => {
  const own = await until('the server holds both Leases', async () => {
    const ids = await Promise.all(leases.map(async (l) => (await lease(l)).holderIdentity));
    return ids[0] && ids.every((id) => id === ids[0]) ? ids[0] : undefined;
  });
  const listsBefore = await podLists();
  assert.ok(listsBefore >= 1, 'the scheduler and controllers listed pods at their first start');
  const transitions = await Promise.all(leases.map(async (l) => (await lease(l)).leaseTransitions ?? 0));

  // Another holder with a fresh renewTime and a 3 s term: the server cannot
  // renew, stops leading, and campaigns again once that term ran out.
  const renewTime = new Date().toISOString().replace('Z', '000Z').replace(/\.(\d{6})\d*Z$/, '.$1Z');
  for (const l of leases) {
    await s!.kubectl(['-n', 'kube-system', 'patch', 'lease', l, '--type', 'merge', '-p', JSON.stringify({ spec: { holderIdentity: 'elsewhere', leaseDurationSeconds: 3, renewTime, acquireTime: renewTime } })]);
  }
  await until('the server won both Leases back', async () => {
    const now = await Promise.all(leases.map(lease));
    return now.every((x, i) => x.holderIdentity === own && (x.leaseTransitions ?? 0) > transitions[i]!);
  });

  // The controllers of the new term work: a ReplicaSet gets its pods.
  const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'after', namespace: ns }, spec: { replicas: 2, selector: { matchLabels: { app: 'after' } }, template: { metadata: { labels: { app: 'after' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } };
  await s!.kubectl(['apply', '-f', '-'], { input: JSON.stringify(rs) });
  await until('the ReplicaSet has 2 replicas', async () => JSON.parse((await s!.kubectl(['-n', ns, 'get', 'rs', 'after', '-o', 'json'])).stdout).status?.replicas === 2);

  // Their informers are views of the caches the first term filled.
  assert.equal(await podLists(), listsBefore, 'pods were listed again after the Leases came back');
});
