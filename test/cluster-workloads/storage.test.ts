// Storage that follows its pods, through kubectl on a real single-node cluster
// (`tug server` with its embedded agent): the default local-path class
// provisions a directory on the node when the first pod uses the claim, the
// data outlives the pod, reclaim Delete removes volume and directory and
// Retain keeps them (Released); static volumes are matched by size and access
// mode; a missing class leaves the claim Pending with Kubernetes' event;
// hostPath, subPath, subPathExpr, readOnly and fsGroup mounts; a subPath that
// a container turned into a symlink out of the volume is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access, lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { leftovers } from '../cluster-agent/agent-cluster.js';
import { startE2eCluster, hex, type E2eCluster } from '../cluster-e2e/e2e-cluster.js';

let c: E2eCluster | undefined;
let ns = '';

before(async () => {
  c = await startE2eCluster();
  ns = `storage-${hex(3)}`;
  await c.kubectl(['create', 'namespace', ns]);
});

after(async () => {
  if (!c) return;
  await c.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { allowFailure: true });
  await c.kubectl(['delete', 'pv', '--all', '--wait=true', '--timeout=60s'], { allowFailure: true });
  const { dataDir, net } = c;
  await c.stop();
  assert.deepEqual(await leftovers(dataDir, net), []);
});

const exists = (p: string) => access(p).then(() => true, () => false);

async function apply(...objs: object[]): Promise<void> {
  await c!.kubectl(['apply', '-n', ns, '-f', '-'], { input: objs.map((o) => stringify(o)).join('---\n') });
}

async function getJson(kind: string, name: string, namespaced = true): Promise<any> {
  const r = await c!.kubectl(['get', kind, name, ...(namespaced ? ['-n', ns] : []), '-o', 'json', '--ignore-not-found']);
  return r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
}

const claim = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } }, ...spec },
});

const pod = (name: string, script: string, volumes: object[], mounts: object[], extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    terminationGracePeriodSeconds: 0,
    restartPolicy: 'Never',
    volumes,
    containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', script], volumeMounts: mounts }],
    ...extra,
  },
});

const claimVolume = (claimName: string, readOnly = false) => ({ name: 'data', persistentVolumeClaim: { claimName, readOnly } });

async function podPhase(name: string, phase: string): Promise<any> {
  const p = await getJson('pod', name);
  return p?.status?.phase === phase ? p : undefined;
}

async function logs(name: string): Promise<string> {
  return (await c!.kubectl(['logs', '-n', ns, name])).stdout;
}

async function events(name: string): Promise<string> {
  return (await c!.kubectl(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${name}`, '-o', 'custom-columns=R:.reason,M:.message', '--no-headers'])).stdout;
}

test('the default class local-path provisions a directory on the node when a pod uses the claim; data outlives the pod; Delete removes both', async () => {
  const cl = c!;
  const sc = await getJson('storageclass', 'local-path', false);
  assert.equal(sc.provisioner, 'tug.io/local-path');
  assert.equal(sc.volumeBindingMode, 'WaitForFirstConsumer');
  assert.equal(sc.reclaimPolicy, 'Delete');
  assert.equal(sc.metadata.annotations['storageclass.kubernetes.io/is-default-class'], 'true');
  assert.match((await cl.kubectl(['get', 'sc'])).stdout, /local-path \(default\)\s+tug\.io\/local-path\s+Delete\s+WaitForFirstConsumer/);

  await apply(claim('data'));
  const pvc0 = await getJson('pvc', 'data');
  assert.equal(pvc0.spec.storageClassName, 'local-path', 'the DefaultStorageClass admission filled in the class');
  assert.ok(pvc0.metadata.finalizers.includes('kubernetes.io/pvc-protection'));
  await cl.until('WaitForFirstConsumer event', async () => (await events('data')).includes('waiting for first consumer to be created before binding'));
  assert.equal((await getJson('pvc', 'data')).status.phase, 'Pending');

  await apply(pod('writer', 'echo kept > /data/f && sleep 3600', [claimVolume('data')], [{ name: 'data', mountPath: '/data' }]));
  await cl.until('writer Running', () => podPhase('writer', 'Running'));
  const pvc = await getJson('pvc', 'data');
  assert.equal(pvc.status.phase, 'Bound');
  assert.equal(pvc.metadata.annotations['pv.kubernetes.io/bind-completed'], 'yes');
  assert.equal(pvc.status.capacity.storage, '64Mi');
  const nodeName = (await getJson('pod', 'writer')).spec.nodeName;
  assert.equal(pvc.metadata.annotations['volume.kubernetes.io/selected-node'], nodeName);
  const pv = await getJson('pv', pvc.spec.volumeName, false);
  assert.equal(pv.metadata.name, `pvc-${pvc.metadata.uid}`);
  assert.equal(pv.status.phase, 'Bound');
  assert.deepEqual(pv.spec.claimRef.uid, pvc.metadata.uid);
  assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
  assert.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0], { key: 'kubernetes.io/hostname', operator: 'In', values: [nodeName] });
  const dir = pv.spec.hostPath.path;
  assert.equal(dir, join(cl.dataDir, 'storage', `${pv.metadata.name}_${ns}_data`));
  assert.equal((await lstat(dir)).mode & 0o777, 0o777);
  await cl.until('the file on the node', async () => (await readFile(join(dir, 'f'), 'utf8').catch(() => '')) === 'kept\n');

  // The pod goes; a new pod with the same claim reads what the first wrote.
  await cl.kubectl(['delete', 'pod', '-n', ns, 'writer', '--wait=true']);
  await apply(pod('reader', 'cat /data/f', [claimVolume('data')], [{ name: 'data', mountPath: '/data' }]));
  await cl.until('reader Succeeded', () => podPhase('reader', 'Succeeded'));
  assert.equal(await logs('reader'), 'kept\n');

  // A claim in use by a pod waits for it (pvc-protection); then Delete removes the PV and the directory.
  await apply(pod('holder', 'sleep 3600', [claimVolume('data')], [{ name: 'data', mountPath: '/data' }]));
  await cl.until('holder Running', () => podPhase('holder', 'Running'));
  await cl.kubectl(['delete', 'pvc', '-n', ns, 'data', '--wait=false']);
  await new Promise((r) => setTimeout(r, 1500));
  const held = await getJson('pvc', 'data');
  assert.ok(held?.metadata.deletionTimestamp, 'the claim is Terminating while the pod uses it');
  assert.ok(await exists(join(dir, 'f')));
  await cl.kubectl(['delete', 'pod', '-n', ns, 'holder', 'reader', '--wait=true']);
  await cl.until('claim gone', async () => !(await getJson('pvc', 'data')));
  await cl.until('PV gone', async () => !(await getJson('pv', pv.metadata.name, false)));
  assert.equal(await exists(dir), false, 'the directory was removed from the node');
});

test('Retain keeps the volume and its directory: the PV goes Released', async () => {
  const cl = c!;
  const scName = `keep-${hex(3)}`;
  await cl.kubectl(['apply', '-f', '-'], { input: stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: scName }, provisioner: 'tug.io/local-path', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' }) });
  await apply(claim('kept', { storageClassName: scName }), pod('once', 'echo retained > /data/f', [claimVolume('kept')], [{ name: 'data', mountPath: '/data' }]));
  await cl.until('once Succeeded', () => podPhase('once', 'Succeeded'));
  const pvName = (await getJson('pvc', 'kept')).spec.volumeName;
  const pv = await getJson('pv', pvName, false);
  assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Retain');
  await cl.kubectl(['delete', 'pod', '-n', ns, 'once', '--wait=true']);
  await cl.kubectl(['delete', 'pvc', '-n', ns, 'kept', '--wait=true']);
  const released = await cl.until('PV Released', async () => {
    const v = await getJson('pv', pvName, false);
    return v?.status?.phase === 'Released' ? v : undefined;
  });
  assert.equal(released.spec.claimRef.name, 'kept');
  assert.equal(await readFile(join(pv.spec.hostPath.path, 'f'), 'utf8'), 'retained\n');
  // Deleting the PV object of a Retain volume keeps the data too.
  await cl.kubectl(['delete', 'pv', pvName, '--wait=true']);
  assert.equal(await readFile(join(pv.spec.hostPath.path, 'f'), 'utf8'), 'retained\n');
  await cl.kubectl(['delete', 'sc', scName]);
});

test('a static PersistentVolume is bound by class, access mode and the smallest capacity that fits', async () => {
  const cl = c!;
  const tag = hex(3);
  const staticPv = (name: string, storage: string, accessModes: string[]) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `${name}-${tag}`, labels: { set: tag } },
    spec: { storageClassName: `manual-${tag}`, capacity: { storage }, accessModes, hostPath: { path: join(cl.dataDir, `static-${name}`), type: 'DirectoryOrCreate' } },
  });
  await cl.kubectl(['apply', '-f', '-'], { input: [staticPv('small', '100Mi', ['ReadWriteOnce']), staticPv('fits', '1Gi', ['ReadWriteOnce']), staticPv('huge', '10Gi', ['ReadWriteOnce']), staticPv('rox', '500Mi', ['ReadOnlyMany'])].map((o) => stringify(o)).join('---\n') });
  await cl.until('PVs Available', async () => (await cl.kubectl(['get', 'pv', '-l', `set=${tag}`, '-o', 'jsonpath={.items[*].status.phase}'])).stdout.split(' ').every((p) => p === 'Available'));
  await apply(claim('static', { storageClassName: `manual-${tag}`, resources: { requests: { storage: '300Mi' } } }));
  const pvc = await cl.until('static claim Bound', async () => {
    const x = await getJson('pvc', 'static');
    return x?.status?.phase === 'Bound' ? x : undefined;
  });
  assert.equal(pvc.spec.volumeName, `fits-${tag}`);
  assert.equal(pvc.status.capacity.storage, '1Gi');
  assert.equal(pvc.metadata.annotations['pv.kubernetes.io/bound-by-controller'], 'yes');
  const pv = await cl.until('fits Bound', async () => {
    const v = await getJson('pv', `fits-${tag}`, false);
    return v?.status?.phase === 'Bound' ? v : undefined;
  });
  assert.deepEqual([pv.spec.claimRef.namespace, pv.spec.claimRef.name, pv.spec.claimRef.uid], [ns, 'static', pvc.metadata.uid]);
  assert.equal(pv.metadata.annotations['pv.kubernetes.io/bound-by-controller'], 'yes');
  assert.ok(pv.metadata.finalizers.includes('kubernetes.io/pv-protection'));
  assert.match((await cl.kubectl(['get', 'pvc', '-n', ns, 'static'])).stdout, new RegExp(`static\\s+Bound\\s+fits-${tag}\\s+1Gi\\s+RWO\\s+manual-${tag}`));
  // A ReadWriteMany claim finds nothing among these.
  await apply(claim('many', { storageClassName: `manual-${tag}`, accessModes: ['ReadWriteMany'] }));
  // The static volume's default policy is Retain: the claim goes, the PV is Released and keeps its claimRef.
  await cl.kubectl(['delete', 'pvc', '-n', ns, 'static', '--wait=true']);
  await cl.until('fits Released', async () => (await getJson('pv', `fits-${tag}`, false))?.status?.phase === 'Released');
  assert.equal((await getJson('pvc', 'many')).status.phase, 'Pending');
  await cl.kubectl(['delete', 'pvc', '-n', ns, 'many', '--wait=true']);
  await cl.kubectl(['delete', 'pv', '-l', `set=${tag}`, '--wait=true']);
});

test('a claim naming a StorageClass that does not exist stays Pending with ProvisioningFailed; its pod is not scheduled', async () => {
  const cl = c!;
  await apply(claim('nowhere', { storageClassName: 'no-such-class' }), pod('stuck', 'true', [claimVolume('nowhere')], [{ name: 'data', mountPath: '/data' }]));
  await cl.until('ProvisioningFailed event', async () => /ProvisioningFailed\s+storageclass\.storage\.k8s\.io "no-such-class" not found/.test(await events('nowhere')));
  assert.equal((await getJson('pvc', 'nowhere')).status.phase, 'Pending');
  await cl.until('FailedScheduling for the unbound claim', async () => /FailedScheduling\s+0\/1 nodes are available: pod has unbound immediate PersistentVolumeClaims\./.test(await events('stuck')));
  const p = await getJson('pod', 'stuck');
  assert.equal(p.spec.nodeName, undefined);
  // Bad input: a claim without a size is refused with the field named.
  const bad = await cl.kubectl(['apply', '-n', ns, '-f', '-'], { input: stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'sizeless' }, spec: { accessModes: ['ReadWriteOnce'] } }), allowFailure: true });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /spec\.resources\[storage\]: Required value/);
  const badPv = await cl.kubectl(['apply', '-f', '-'], { input: stringify({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: `bad-${hex(3)}` }, spec: { accessModes: ['ReadWriteOnce'], hostPath: { path: '/srv' } } }), allowFailure: true });
  assert.notEqual(badPv.code, 0);
  assert.match(badPv.stderr, /spec\.capacity: Required value/);
  const badSc = await cl.kubectl(['apply', '-f', '-'], { input: stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: `bad-${hex(3)}` }, provisioner: 'tug.io/local-path', volumeBindingMode: 'Later' }), allowFailure: true });
  assert.notEqual(badSc.code, 0);
  assert.match(badSc.stderr, /volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"/);
  // A claim's spec is fixed once made (bar its size).
  const changed = await cl.kubectl(['patch', 'pvc', '-n', ns, 'nowhere', '--type=merge', '-p', '{"spec":{"accessModes":["ReadWriteMany"]}}'], { allowFailure: true });
  assert.notEqual(changed.code, 0);
  assert.match(changed.stderr, /spec: Forbidden: spec is immutable after creation except resources\.requests and volumeAttributesClassName for bound claims/);
  await cl.kubectl(['delete', 'pod', '-n', ns, 'stuck', '--wait=true']);
  await cl.kubectl(['delete', 'pvc', '-n', ns, 'nowhere', '--wait=true']);
});

test('hostPath DirectoryOrCreate, subPath, subPathExpr, readOnly and fsGroup; a subPath symlink out of the volume is refused', async () => {
  const cl = c!;
  const hostDir = join(cl.dataDir, `host-${hex(3)}`, 'made');
  const script = [
    'test -d /host && echo host-ok > /data/host',
    'id -G > /data/groups',
    'echo sub > /sub/s',
    'echo expr > /expr/e',
    '(echo x > /ro/x && echo WROTE || echo REFUSED) > /data/ro',
    // What a hostile container could do: plant a symlink out of the volume, for a later subPath.
    'ln -s / /data/escape',
    'touch /data/done',
  ].join('; ');
  const mountsPod = pod(
      'mounts',
      script,
      [claimVolume('shared'), { name: 'host', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } }, { name: 'view', persistentVolumeClaim: { claimName: 'shared', readOnly: true } }],
      [
        { name: 'data', mountPath: '/data' },
        { name: 'data', mountPath: '/sub', subPath: 'a/b' },
        { name: 'data', mountPath: '/expr', subPathExpr: 'by-pod/$(POD_NAME)' },
        { name: 'view', mountPath: '/ro' },
        { name: 'host', mountPath: '/host' },
      ],
      { securityContext: { runAsUser: 1000, fsGroup: 2000 } },
    );
  // subPathExpr expands $(POD_NAME), from the downward API.
  mountsPod.spec.containers[0] = { ...mountsPod.spec.containers[0], env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] } as (typeof mountsPod.spec.containers)[0];
  await apply(claim('shared'), mountsPod);
  await cl.until('mounts Succeeded', async () => {
    const p = await getJson('pod', 'mounts');
    if (p?.status?.phase === 'Failed') throw new Error(`mounts failed: ${await logs('mounts')}`);
    return p?.status?.phase === 'Succeeded';
  });
  const pvc = await getJson('pvc', 'shared');
  const dir = (await getJson('pv', pvc.spec.volumeName, false)).spec.hostPath.path;
  const read = (f: string) => readFile(join(dir, f), 'utf8');
  assert.equal(await read('host'), 'host-ok\n');
  assert.ok((await lstat(hostDir)).isDirectory(), 'DirectoryOrCreate made the host directory');
  assert.equal(await read('a/b/s'), 'sub\n');
  assert.equal(await read('by-pod/mounts/e'), 'expr\n');
  assert.equal(await read('ro'), 'REFUSED\n');
  assert.equal(await exists(join(dir, 'x')), false);
  assert.ok((await read('groups')).trim().split(' ').includes('2000'), 'fsGroup is one of the process groups');
  assert.equal((await lstat(join(dir, 'done'))).gid, 2000, 'files made in the volume belong to fsGroup');
  assert.equal((await lstat(join(dir, 'a', 'b'))).gid, 2000);
  assert.ok((await lstat(join(dir, 'escape'))).isSymbolicLink());

  // A later pod mounting subPath escape/tmp would reach the host's /tmp: refused.
  await apply(pod('escape', 'ls /x', [claimVolume('shared')], [{ name: 'data', mountPath: '/x', subPath: 'escape/tmp' }]));
  const waiting = await cl.until('escape refused', async () => {
    const w = (await getJson('pod', 'escape'))?.status?.containerStatuses?.[0]?.state?.waiting;
    return w?.reason === 'CreateContainerConfigError' ? w : undefined;
  });
  assert.match(waiting.message, /failed to create subPath directory for volumeMount "data" of container "c"/);
  assert.equal((await readdir(dir)).includes('tmp'), false);

  // A hostPath of the wrong type: the pod waits in ContainerCreating with FailedMount.
  await apply(pod('wrong-type', 'true', [{ name: 'h', hostPath: { path: join(dir, 'ro'), type: 'Directory' } }], [{ name: 'h', mountPath: '/h' }]));
  const expected = `MountVolume.SetUp failed for volume "h" : hostPath type check failed: ${join(dir, 'ro')} is not a directory`;
  await cl.until('FailedMount', async () => (await events('wrong-type')).split('\n').some((l) => l.startsWith('FailedMount') && l.endsWith(expected)));
  assert.equal((await getJson('pod', 'wrong-type')).status.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');
  await cl.kubectl(['delete', 'pod', '-n', ns, 'mounts', 'escape', 'wrong-type', '--wait=true']);
});

// The tutorial's StatefulSet: each ordinal gets its own claim from
// volumeClaimTemplates, bound to a local-path volume; a deleted pod comes back
// under its name on the same claim and finds what it wrote.
test('a StatefulSet keeps each ordinal its own volume, and a deleted pod comes back to its data', async () => {
  const labels = { app: 'stsdata' };
  await apply(
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'stsdata' }, spec: { clusterIP: 'None', selector: labels, ports: [{ port: 80 }] } },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'stsdata' },
      spec: {
        serviceName: 'stsdata',
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 0,
            containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', '[ -f /data/first ] || echo "$HOSTNAME" > /data/first; date +%s%N >> /data/starts; sleep 3600'], volumeMounts: [{ name: 'www', mountPath: '/data' }] }],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '32Mi' } } } }],
      },
    },
  );
  const ready = async (n: number) => {
    const s = await getJson('statefulset', 'stsdata');
    return s?.status?.readyReplicas === n ? s : undefined;
  };
  await c!.until('stsdata with 2 ready pods', () => ready(2));
  const read = async (p: string, file: string) => (await c!.kubectl(['exec', '-n', ns, p, '--', 'cat', `/data/${file}`])).stdout.trim();
  const claims = await Promise.all(['www-stsdata-0', 'www-stsdata-1'].map((n) => getJson('pvc', n)));
  for (const cl of claims) assert.equal(cl?.status?.phase, 'Bound', `claim ${cl?.metadata?.name} is Bound`);
  assert.notEqual(claims[0].spec.volumeName, claims[1].spec.volumeName, 'each ordinal has its own volume');
  assert.equal(await read('stsdata-0', 'first'), 'stsdata-0');
  assert.equal(await read('stsdata-1', 'first'), 'stsdata-1');
  const uid = (await getJson('pod', 'stsdata-1')).metadata.uid;
  await c!.kubectl(['delete', 'pod', '-n', ns, 'stsdata-1', '--wait=true']);
  await c!.until('stsdata-1 back and Ready', async () => {
    const p = await getJson('pod', 'stsdata-1');
    return p && p.metadata.uid !== uid && p.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True') ? p : undefined;
  });
  assert.equal(await read('stsdata-1', 'first'), 'stsdata-1', 'the new stsdata-1 reads what the old one wrote');
  assert.equal((await read('stsdata-1', 'starts')).split('\n').length, 2, 'two starts recorded on the one volume');
  assert.equal((await getJson('pvc', 'www-stsdata-1')).spec.volumeName, claims[1].spec.volumeName, 'same claim, same volume');
  await c!.kubectl(['delete', 'statefulset', '-n', ns, 'stsdata', '--wait=true']);
  // Retention policy Retain (the default): the claims outlive the StatefulSet.
  assert.ok(await getJson('pvc', 'www-stsdata-0'), 'claims are retained after the StatefulSet is deleted');
});
