// StatefulSets through kubectl on a real single-node cluster: ordered start
// (web-0 Ready before web-1 exists), stable identity (hostname, subdomain,
// labels, the FQDN in /etc/hosts) and DNS names through the headless
// Service, a deleted pod coming back under its name, adoption after an
// orphaning delete, a partitioned rolling update with rollout
// status/history/undo, reverse-order scale-down, Parallel pod management, the
// PVCs of volumeClaimTemplates (names, labels, ownerReferences; binding is the
// storage slice's), and the selector/template 422.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { leftovers } from '../cluster-agent/agent-cluster.js';
import { startE2eCluster, hex, type E2eCluster } from '../cluster-e2e/e2e-cluster.js';

let c: E2eCluster | undefined;
const ns = `sts-${hex(3)}`;
const kns = (args: string[], opts: { input?: string; allowFailure?: boolean } = {}) => c!.kubectl(['-n', ns, ...args], opts);
const json = async (args: string[]): Promise<any> => JSON.parse((await kns([...args, '-o', 'json'])).stdout);

// Exits at once on SIGTERM (sleep as PID 1 would wait out the grace period).
const idle = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];

function statefulSet(name: string, extra: Record<string, unknown> = {}, readyDelay = 2): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      serviceName: name,
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [{ name: 'c', image: 'busybox', command: idle, env: [{ name: 'VERSION', value: 'v1' }], readinessProbe: { exec: { command: ['true'] }, initialDelaySeconds: readyDelay, periodSeconds: 1 } }],
        },
      },
      ...extra,
    },
  };
}

const headless = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { clusterIP: 'None', selector: { app: name }, ports: [{ name: 'x', port: 80 }] } });

const readySince = (p: any): number => Date.parse(p.status.conditions.find((x: any) => x.type === 'Ready' && x.status === 'True')?.lastTransitionTime ?? 'x');
const podsOf = async (app: string): Promise<any[]> => (await json(['get', 'pods', '-l', `app=${app}`])).items;

before(async () => {
  c = await startE2eCluster();
  await c.kubectl(['create', 'namespace', ns]);
  const client = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: idle }] } };
  await kns(['apply', '-f', '-'], { input: [headless('web'), statefulSet('web'), client].map((o) => stringify(o)).join('---\n') });
});

after(async () => {
  if (!c) return;
  await c.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { allowFailure: true });
  const { dataDir, net } = c;
  await c.stop();
  assert.deepEqual(await leftovers(dataDir, net), []);
});

test('OrderedReady: web-0, web-1, web-2 start in order, each after the one before is Ready, with stable identity', async () => {
  const out = await kns(['rollout', 'status', 'sts/web', '--timeout=120s']);
  assert.match(out.stdout, /partitioned roll out complete: 3 new pods have been updated/);
  const pods = (await podsOf('web')).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  assert.deepEqual(pods.map((p) => p.metadata.name), ['web-0', 'web-1', 'web-2']);
  for (let i = 1; i < 3; i++) {
    // Timestamps are in whole seconds; each pod becomes Ready 2 s after it starts, so created-in-parallel pods fail this.
    assert.ok(readySince(pods[i - 1]) <= Date.parse(pods[i].metadata.creationTimestamp), `web-${i} created ${pods[i].metadata.creationTimestamp}, web-${i - 1} Ready ${readySince(pods[i - 1])}`);
  }
  const sts = await json(['get', 'sts', 'web']);
  for (const [i, p] of pods.entries()) {
    assert.equal(p.spec.hostname, `web-${i}`);
    assert.equal(p.spec.subdomain, 'web');
    assert.equal(p.metadata.labels['statefulset.kubernetes.io/pod-name'], `web-${i}`);
    assert.equal(p.metadata.labels['apps.kubernetes.io/pod-index'], String(i));
    assert.equal(p.metadata.labels['controller-revision-hash'], sts.status.updateRevision);
    assert.deepEqual(p.metadata.ownerReferences.map((r: any) => [r.kind, r.name, r.controller]), [['StatefulSet', 'web', true]]);
    assert.equal((await kns(['exec', p.metadata.name, '--', 'hostname'])).stdout.trim(), `web-${i}`);
    // The kubelet's hosts file: the pod's address under its FQDN and hostname.
    const hosts = (await kns(['exec', p.metadata.name, '--', 'cat', '/etc/hosts'])).stdout;
    assert.ok(hosts.split('\n').includes(`${p.status.podIP}\tweb-${i}.web.${ns}.svc.cluster.local\tweb-${i}`), hosts);
  }
  assert.equal(sts.status.replicas, 3);
  assert.equal(sts.status.readyReplicas, 3);
  assert.equal(sts.status.availableReplicas, 3);
  assert.equal(sts.status.currentReplicas, 3);
  assert.equal(sts.status.updatedReplicas, 3);
  assert.equal(sts.status.currentRevision, sts.status.updateRevision);
  assert.equal(sts.status.observedGeneration, sts.metadata.generation);
  const described = (await kns(['describe', 'sts', 'web'])).stdout;
  assert.match(described, /SuccessfulCreate\s+.*create Pod web-2 in StatefulSet web successful/);
  const rev = await json(['get', 'controllerrevision', sts.status.updateRevision]);
  assert.equal(rev.revision, 1);
  assert.equal(rev.data.spec.template.$patch, 'replace');
  assert.equal(rev.metadata.labels.app, 'web');
});

test('DNS: web-N.web.NS.svc.cluster.local is each pod, and the headless name returns all ready pods', async () => {
  const pods = await podsOf('web');
  await c!.until('cluster DNS answers the client pod', async () => (await kns(['exec', 'client', '--', 'nslookup', `web-0.web.${ns}.svc.cluster.local`], { allowFailure: true })).stdout.includes(pods.find((p) => p.metadata.name === 'web-0').status.podIP));
  for (const p of pods) {
    const r = await kns(['exec', 'client', '--', 'nslookup', `${p.metadata.name}.web.${ns}.svc.cluster.local`]);
    assert.match(r.stdout, new RegExp(`Address: ${p.status.podIP.replaceAll('.', '\\.')}\\s*$`, 'm'), r.stdout);
  }
  const all = await kns(['exec', 'client', '--', 'nslookup', `web.${ns}.svc.cluster.local`]);
  for (const p of pods) assert.ok(all.stdout.includes(`Address: ${p.status.podIP}`), all.stdout);
  const ep = await json(['get', 'endpoints', 'web']);
  assert.deepEqual(ep.subsets[0].addresses.map((a: any) => a.hostname).sort(), ['web-0', 'web-1', 'web-2']);
});

test('a deleted web-1 comes back under the same name, with its DNS record', async () => {
  const old = await json(['get', 'pod', 'web-1']);
  await kns(['delete', 'pod', 'web-1', '--wait=true']);
  const back = await c!.until('web-1 back and Ready', async () => {
    const p = JSON.parse((await kns(['get', 'pod', 'web-1', '-o', 'json'], { allowFailure: true })).stdout || '{}');
    return p.metadata?.uid && p.metadata.uid !== old.metadata.uid && p.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True') ? p : undefined;
  });
  assert.equal(back.spec.hostname, 'web-1');
  await c!.until('web-1.web resolves to the new pod', async () => (await kns(['exec', 'client', '--', 'nslookup', `web-1.web.${ns}.svc.cluster.local`], { allowFailure: true })).stdout.includes(`Address: ${back.status.podIP}`));
});

test('RollingUpdate with a partition, rollout status, history and undo', async () => {
  const before = await json(['get', 'sts', 'web']);
  const rev1 = before.status.updateRevision;
  await kns(['patch', 'sts', 'web', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}']);
  await kns(['set', 'env', 'sts/web', 'VERSION=v2']);
  const partial = await kns(['rollout', 'status', 'sts/web', '--timeout=120s']);
  assert.match(partial.stdout, /partitioned roll out complete: 1 new pods have been updated/);
  const sts = await json(['get', 'sts', 'web']);
  const rev2 = sts.status.updateRevision;
  assert.notEqual(rev2, rev1);
  assert.equal(sts.status.currentRevision, rev1);
  const revOf = async (n: string): Promise<string> => (await json(['get', 'pod', n])).metadata.labels['controller-revision-hash'];
  assert.deepEqual([await revOf('web-0'), await revOf('web-1'), await revOf('web-2')], [rev1, rev1, rev2]);
  assert.equal((await kns(['exec', 'web-2', '--', 'sh', '-c', 'echo $VERSION'])).stdout.trim(), 'v2');

  await kns(['patch', 'sts', 'web', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}']);
  const full = await kns(['rollout', 'status', 'sts/web', '--timeout=120s']);
  assert.match(full.stdout, /partitioned roll out complete: 3 new pods have been updated/);
  await c!.until('currentRevision is the update revision', async () => (await json(['get', 'sts', 'web'])).status.currentRevision === rev2);
  assert.deepEqual([await revOf('web-0'), await revOf('web-1'), await revOf('web-2')], [rev2, rev2, rev2]);

  const history = (await kns(['rollout', 'history', 'sts/web'])).stdout;
  assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
  const shown = (await kns(['rollout', 'history', 'sts/web', '--revision=1'])).stdout;
  assert.match(shown, /VERSION:\s+v1/);

  const undo = await kns(['rollout', 'undo', 'sts/web']);
  assert.match(undo.stdout, /statefulset.apps\/web rolled back/);
  await kns(['rollout', 'status', 'sts/web', '--timeout=120s']);
  await c!.until('all pods back at revision 1, now numbered 3', async () => {
    const s = await json(['get', 'sts', 'web']);
    const revs = [await revOf('web-0'), await revOf('web-1'), await revOf('web-2')];
    return s.status.currentRevision === rev1 && revs.every((r) => r === rev1);
  });
  assert.equal((await kns(['exec', 'web-0', '--', 'sh', '-c', 'echo $VERSION'])).stdout.trim(), 'v1');
  assert.match((await kns(['rollout', 'history', 'sts/web'])).stdout, /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>/);
});

test('scale down removes pods in reverse ordinal order, one at a time', async () => {
  const env = { ...process.env, KUBECONFIG: join(c!.dataDir, 'kubeconfig'), KUBECACHEDIR: join(c!.dataDir, 'kubectl-cache') };
  // Every pod event in order, from a watch started before the scale.
  const watch = spawn('kubectl', ['-n', ns, 'get', 'pods', '-l', 'app=web', '-w', '--output-watch-events', '-o', 'json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let raw = '';
  watch.stdout.on('data', (b: Buffer) => (raw += b.toString()));
  try {
    await c!.until('the watch started', async () => raw.includes('web-2'));
    await kns(['scale', 'sts/web', '--replicas=1']);
    await c!.until('only web-0 left', async () => (await podsOf('web')).map((p) => p.metadata.name).join() === 'web-0');
    await c!.until('web-1 deletion seen by the watch', async () => /"type":\s*"DELETED"[\s\S]*"name":\s*"web-1"/.test(raw));
  } finally {
    watch.kill();
  }
  const events = raw
    .split(/\n(?=\{)/)
    .filter((s) => s.trim())
    .map((s) => JSON.parse(s));
  const firstTerminating = (name: string) => events.findIndex((e) => e.object.metadata.name === name && (e.object.metadata.deletionTimestamp || e.type === 'DELETED'));
  const gone = (name: string) => events.findIndex((e) => e.object.metadata.name === name && e.type === 'DELETED');
  assert.ok(gone('web-2') >= 0 && firstTerminating('web-1') > gone('web-2'), `web-1 started terminating (event ${firstTerminating('web-1')}) only after web-2 was gone (event ${gone('web-2')})`);
  const sts = await json(['get', 'sts', 'web']);
  assert.equal(sts.status.replicas, 1);
});

test('after kubectl delete --cascade=orphan, a re-created StatefulSet adopts the pods and revisions as they are', async () => {
  const before = await podsOf('web');
  const oldSet = await json(['get', 'sts', 'web']);
  await kns(['delete', 'sts', 'web', '--cascade=orphan', '--wait=true']);
  const orphans = await podsOf('web');
  assert.deepEqual(orphans.map((p) => [p.metadata.uid, p.metadata.ownerReferences ?? []]), before.map((p) => [p.metadata.uid, []]));
  const again = statefulSet('web', { replicas: 1 });
  await kns(['apply', '-f', '-'], { input: stringify(again) });
  const set = await c!.until('the new StatefulSet owns web-0 and reports it ready', async () => {
    const s = await json(['get', 'sts', 'web']);
    return s.metadata.uid !== oldSet.metadata.uid && s.status?.readyReplicas === 1 ? s : undefined;
  });
  const adopted = await podsOf('web');
  assert.deepEqual(adopted.map((p) => [p.metadata.name, p.metadata.uid]), before.map((p) => [p.metadata.name, p.metadata.uid]), 'the same pod, not a new one');
  assert.equal(adopted[0].metadata.ownerReferences[0].uid, set.metadata.uid);
  const revisions = (await json(['get', 'controllerrevisions', '-l', 'app=web'])).items;
  assert.ok(revisions.length > 0 && revisions.every((r: any) => r.metadata.ownerReferences?.[0]?.uid === set.metadata.uid), 'revisions adopted');
  assert.ok(revisions.some((r: any) => r.metadata.name === set.status.updateRevision));
});

test('Parallel pod management starts all pods without waiting for readiness', async () => {
  await kns(['apply', '-f', '-'], { input: [headless('par'), statefulSet('par', { podManagementPolicy: 'Parallel' }, 4)].map((o) => stringify(o)).join('---\n') });
  await kns(['rollout', 'status', 'sts/par', '--timeout=120s']);
  const pods = await podsOf('par');
  assert.deepEqual(pods.map((p) => p.metadata.name).sort(), ['par-0', 'par-1', 'par-2']);
  // All three exist before the first is Ready (4 s after it starts).
  const lastCreated = Math.max(...pods.map((p) => Date.parse(p.metadata.creationTimestamp)));
  const firstReady = Math.min(...pods.map(readySince));
  assert.ok(lastCreated < firstReady, `last created ${lastCreated}, first ready ${firstReady}`);
  await kns(['delete', 'sts', 'par', '--wait=true']);
});

test('volumeClaimTemplates: one PVC per template and ordinal, labelled and owned as the retention policy says', async () => {
  const sts = statefulSet('db', {
    replicas: 1,
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
    volumeClaimTemplates: [{ metadata: { name: 'data', labels: { tier: 'storage' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '16Mi' } } } }],
  });
  (sts.spec as any).template.spec.containers[0].volumeMounts = [{ name: 'data', mountPath: '/data' }];
  await kns(['apply', '-f', '-'], { input: stringify(sts) });
  const pvc = await c!.until('PVC data-db-0', async () => JSON.parse((await kns(['get', 'pvc', 'data-db-0', '-o', 'json'], { allowFailure: true })).stdout || 'null'));
  const set = await json(['get', 'sts', 'db']);
  assert.deepEqual(pvc.metadata.labels, { tier: 'storage', app: 'db' });
  assert.deepEqual(pvc.metadata.ownerReferences.map((r: any) => [r.apiVersion, r.kind, r.name, r.uid, r.controller]), [['apps/v1', 'StatefulSet', 'db', set.metadata.uid, true]]);
  const pod = await c!.until('pod db-0', async () => JSON.parse((await kns(['get', 'pod', 'db-0', '-o', 'json'], { allowFailure: true })).stdout || 'null'));
  assert.deepEqual(pod.spec.volumes.find((v: any) => v.name === 'data').persistentVolumeClaim, { claimName: 'data-db-0' });
  // whenDeleted: Delete: the claim goes with the StatefulSet.
  await kns(['delete', 'sts', 'db', '--wait=true']);
  await c!.until('PVC data-db-0 collected', async () => (await kns(['get', 'pvc', '-o', 'name'])).stdout.trim() === '');
});

test('a selector that does not select the template labels is refused with 422, and nothing is made', async () => {
  const bad = statefulSet('bad');
  (bad.spec as any).selector = { matchLabels: { app: 'other' } };
  const r = await kns(['apply', '-f', '-'], { input: stringify(bad), allowFailure: true });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /The StatefulSet "bad" is invalid: spec\.template\.metadata\.labels: Invalid value: map\[string\]string\{"app":"bad"\}: `selector` does not match template `labels`/);
  const get = await kns(['get', 'sts', 'bad'], { allowFailure: true });
  assert.match(get.stderr, /NotFound|not found/);
  const policy = statefulSet('bad', { podManagementPolicy: 'Sometimes' });
  const r2 = await kns(['apply', '-f', '-'], { input: stringify(policy), allowFailure: true });
  assert.match(r2.stderr, /spec\.podManagementPolicy: Unsupported value: "Sometimes": supported values: "OrderedReady", "Parallel"/);
});
