// Pure functions of the API machinery: the three patch formats, label/field
// selectors and server-side-apply field ownership.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from '../../src/apiserver/patch.js';
import { labelPredicate, fieldPredicate } from '../../src/kube/api/selectors.js';
import { serverSideApply } from '../../src/apiserver/managed-fields.js';
import { podType } from '../../src/kube/api/core-pod.js';
import { deploymentType } from '../../src/kube/api/workload-types.js';
import { isKind } from '../../src/errdefs.js';

const pod = () => ({
  metadata: { name: 'p', labels: { app: 'web', tier: 'fe' }, finalizers: ['a'] },
  spec: {
    containers: [
      { name: 'web', image: 'nginx:1', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: '1' }], volumeMounts: [{ name: 'v', mountPath: '/data' }] },
      { name: 'side', image: 'busybox' },
    ],
    volumes: [{ name: 'v', emptyDir: {} }],
  },
});

test('strategic merge patch merges lists by their patchMergeKey and honours directives', () => {
  const out: any = applyStrategicMergePatch(
    pod(),
    {
      metadata: { finalizers: ['b'] },
      spec: {
        containers: [
          { name: 'web', image: 'nginx:2', env: [{ name: 'B', value: '2' }], ports: [{ containerPort: 443 }] },
          { name: 'side', $patch: 'delete' },
          { name: 'new', image: 'alpine' },
        ],
        volumes: [{ name: 'v2', hostPath: { path: '/x' } }],
      },
    },
    podType.schema,
  );
  assert.deepEqual(out.spec.containers.map((c: any) => c.name), ['web', 'new']);
  assert.equal(out.spec.containers[0].image, 'nginx:2');
  // Without $setElementOrder, Kubernetes puts items the live object lacks before the server-only ones.
  assert.deepEqual(out.spec.containers[0].env.map((e: any) => e.name), ['B', 'A']);
  assert.deepEqual(out.spec.containers[0].ports.map((p: any) => p.containerPort), [443, 80]);
  assert.deepEqual(out.spec.volumes.map((v: any) => v.name), ['v2', 'v']);
  assert.deepEqual(out.metadata.finalizers, ['b', 'a'], 'finalizers merge as a set');
  const replaced: any = applyStrategicMergePatch(pod(), { spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } }, podType.schema);
  assert.deepEqual(replaced.spec.containers.map((c: any) => c.name), ['only']);
  const nulled: any = applyStrategicMergePatch(pod(), { metadata: { labels: { tier: null } } }, podType.schema);
  assert.deepEqual(nulled.metadata.labels, { app: 'web' });
  const retained: any = applyStrategicMergePatch({ spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } }, { spec: { strategy: { type: 'Recreate', $retainKeys: ['type'] } } }, deploymentType.schema);
  assert.deepEqual(retained.spec.strategy, { type: 'Recreate' });
});

test('strategic merge patch orders merged lists as apimachinery does, with and without $setElementOrder', () => {
  const live = { spec: { containers: [{ name: 'c', image: 'i', env: [{ name: 'TOKEN', value: 't' }] }] } };
  const noOrder: any = applyStrategicMergePatch(live, { spec: { containers: [{ name: 'c', env: [{ name: 'X', value: 'x' }] }] } }, podType.schema);
  assert.deepEqual(noOrder.spec.containers[0].env.map((e: any) => e.name), ['X', 'TOKEN']);
  // apimachinery's "merge lists of maps" case: the directive's order wins and server-only fields survive.
  const cur = { spec: { volumes: [{ name: '1', other: 'a' }, { name: '2', emptyDir: {}, other: 'b' }] } };
  const ordered: any = applyStrategicMergePatch(
    cur,
    { spec: { '$setElementOrder/volumes': [{ name: '4' }, { name: '1' }, { name: '2' }, { name: '3' }], volumes: [{ name: '4', emptyDir: {} }, { name: '3', emptyDir: {} }] } },
    podType.schema,
  );
  assert.deepEqual(ordered.spec.volumes.map((v: any) => v.name), ['4', '1', '2', '3']);
  assert.equal(ordered.spec.volumes[1].other, 'a');
  assert.ok(!('$setElementOrder/volumes' in ordered.spec));
  // An item already live keeps its place relative to the other live items.
  const kept: any = applyStrategicMergePatch({ metadata: { finalizers: ['a', 'b'] } }, { metadata: { finalizers: ['b', 'c'] } }, podType.schema);
  assert.deepEqual(kept.metadata.finalizers, ['a', 'b', 'c']);
});

test('merge patch replaces lists; JSON patch applies operations in order and fails cleanly', () => {
  const m: any = applyMergePatch(pod(), { spec: { containers: [{ name: 'x', image: 'y' }] }, metadata: { labels: { app: null } } });
  assert.equal(m.spec.containers.length, 1);
  assert.deepEqual(m.metadata.labels, { tier: 'fe' });
  const j: any = applyJsonPatch(pod(), [
    { op: 'add', path: '/metadata/labels/new~1key', value: 'v' },
    { op: 'replace', path: '/spec/containers/0/image', value: 'nginx:3' },
    { op: 'remove', path: '/spec/containers/1' },
    { op: 'copy', from: '/metadata/name', path: '/metadata/generateName' },
    { op: 'test', path: '/spec/containers/0/image', value: 'nginx:3' },
  ]);
  assert.equal(j.metadata.labels['new/key'], 'v');
  assert.equal(j.spec.containers.length, 1);
  assert.equal(j.metadata.generateName, 'p');
  assert.throws(() => applyJsonPatch(pod(), [{ op: 'test', path: '/metadata/name', value: 'q' }]), (e) => isKind(e, 'invalid'));
  assert.throws(() => applyJsonPatch(pod(), [{ op: 'remove', path: '/nope/x' }]), (e) => isKind(e, 'invalid'));
});

test('label selectors support =, ==, !=, in, notin, exists and !exists; field selectors are typed per kind', () => {
  const o = { metadata: { name: 'p', namespace: 'n', labels: { app: 'web', tier: 'fe' } }, spec: { nodeName: 'node1' }, status: { phase: 'Running' } };
  const yes = ['app=web', 'app==web', 'app!=db', 'tier in (fe,be)', 'tier notin (be)', 'app', '!missing', 'app=web,tier in (fe)'];
  const no = ['app=db', 'tier notin (fe)', 'missing', '!app', 'app in (db)'];
  for (const s of yes) assert.equal(labelPredicate(s)!(o), true, s);
  for (const s of no) assert.equal(labelPredicate(s)!(o), false, s);
  assert.equal(fieldPredicate(podType, 'spec.nodeName=node1,status.phase!=Pending')!(o), true);
  assert.equal(fieldPredicate(podType, 'metadata.namespace=other')!(o), false);
  assert.throws(() => fieldPredicate(podType, 'spec.bogus=1'), /field label not supported: spec.bogus/);
  assert.throws(() => labelPredicate('app in web'), (e) => isKind(e, 'invalid'));
});

test('server-side apply records ownership, reports conflicts and removes fields an applier dropped', () => {
  const applied = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', labels: { a: '1', b: '2' } }, spec: { replicas: 2 } };
  const first = serverSideApply(undefined, applied, 'alice', 'apps/v1', deploymentType.schema, false);
  assert.equal(first.metadata!.managedFields![0].manager, 'alice');
  assert.deepEqual(first.metadata!.managedFields![0].fieldsV1, { 'f:metadata': { 'f:labels': { 'f:a': {}, 'f:b': {} } }, 'f:spec': { 'f:replicas': {} } });
  assert.throws(
    () => serverSideApply(first, { ...applied, spec: { replicas: 5 } }, 'bob', 'apps/v1', deploymentType.schema, false),
    (e: any) => isKind(e, 'conflict') && /conflict with "alice" using apps\/v1: \.spec\.replicas/.test(e.message),
  );
  const forced = serverSideApply(first, { ...applied, metadata: { name: 'd' }, spec: { replicas: 5 } }, 'bob', 'apps/v1', deploymentType.schema, true);
  assert.equal(forced.spec.replicas, 5);
  const alice = forced.metadata!.managedFields!.find((m) => m.manager === 'alice')!;
  assert.deepEqual(alice.fieldsV1, { 'f:metadata': { 'f:labels': { 'f:a': {}, 'f:b': {} } } }, 'forced fields change owner');
  const dropped = serverSideApply(forced, { ...applied, metadata: { name: 'd', labels: { a: '1' } }, spec: undefined }, 'alice', 'apps/v1', deploymentType.schema, false);
  assert.deepEqual(dropped.metadata!.labels, { a: '1' }, 'label b was only alice\'s and she stopped applying it');
  assert.equal(dropped.spec.replicas, 5, 'bob still owns replicas');
});
