// The rules that choose a PersistentVolume for a claim (controllers/volume/binding-match.ts):
// class, access modes, volume mode, selector, node affinity, the smallest that fits,
// and pre-bound volumes first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findBestMatch, unsatisfiedBy, volumeFitsNode } from '../../src/controllers/volume/binding-match.js';
import type { KubeObject } from '../../src/kube/client/kube-client.js';

const pv = (name: string, spec: Record<string, unknown>, extra: { labels?: Record<string, string>; phase?: string } = {}): KubeObject => ({
  metadata: { name, labels: extra.labels },
  spec: { accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' }, volumeMode: 'Filesystem', storageClassName: 'manual', ...spec },
  status: { phase: extra.phase ?? 'Available' },
});
const pvc = (spec: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'data', namespace: 'ns', uid: 'u-1' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '500Mi' } }, storageClassName: 'manual', ...spec },
});
const node = (name: string, labels: Record<string, string> = {}) => ({ name, labels: { 'kubernetes.io/hostname': name, ...labels } });

test('the smallest volume whose capacity covers the request wins', () => {
  const pvs = [pv('big', { capacity: { storage: '10Gi' } }), pv('small', { capacity: { storage: '100Mi' } }), pv('fits', { capacity: { storage: '600Mi' } }), pv('mid', { capacity: { storage: '1Gi' } })];
  assert.equal(findBestMatch(pvs, pvc())?.metadata.name, 'fits');
  assert.equal(findBestMatch(pvs, pvc({ resources: { requests: { storage: '20Gi' } } })), undefined);
});

test('class, access modes and volume mode must match', () => {
  assert.equal(findBestMatch([pv('other-class', { storageClassName: 'fast' })], pvc()), undefined);
  assert.equal(findBestMatch([pv('no-class', { storageClassName: undefined })], pvc({ storageClassName: '' }))?.metadata.name, 'no-class');
  assert.equal(findBestMatch([pv('rwo', {})], pvc({ accessModes: ['ReadWriteMany'] })), undefined);
  assert.equal(findBestMatch([pv('both', { accessModes: ['ReadWriteOnce', 'ReadOnlyMany'] })], pvc({ accessModes: ['ReadOnlyMany'] }))?.metadata.name, 'both');
  assert.equal(findBestMatch([pv('block', { volumeMode: 'Block' })], pvc()), undefined);
  assert.equal(unsatisfiedBy(pv('x', { capacity: { storage: '1Mi' } }), pvc()), 'requested PV is too small');
  assert.equal(unsatisfiedBy(pv('x', { accessModes: ['ReadOnlyMany'] }), pvc()), 'incompatible accessMode');
});

test('a selector picks by the volume labels; bound or released volumes are not offered', () => {
  const pvs = [pv('a', {}, { labels: { tier: 'gold' } }), pv('b', {}, { labels: { tier: 'silver' } })];
  assert.equal(findBestMatch(pvs, pvc({ selector: { matchLabels: { tier: 'silver' } } }))?.metadata.name, 'b');
  assert.equal(findBestMatch(pvs, pvc({ selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['bronze'] }] } })), undefined);
  assert.equal(findBestMatch([pv('released', {}, { phase: 'Released' })], pvc()), undefined);
  assert.equal(findBestMatch([pv('taken', { claimRef: { namespace: 'ns', name: 'other', uid: 'u-2' } })], pvc()), undefined);
});

test('a volume pre-bound to the claim wins over a better fit, by uid when it has one', () => {
  const pre = pv('pre', { capacity: { storage: '5Gi' }, claimRef: { namespace: 'ns', name: 'data' } });
  assert.equal(findBestMatch([pv('fits', { capacity: { storage: '600Mi' } }), pre], pvc())?.metadata.name, 'pre');
  const otherUid = pv('stale', { claimRef: { namespace: 'ns', name: 'data', uid: 'u-old' } });
  assert.equal(findBestMatch([otherUid], pvc()), undefined);
  // claim.spec.volumeName names the only candidate.
  assert.equal(findBestMatch([pv('a', {}), pv('b', {})], pvc({ volumeName: 'b' }))?.metadata.name, 'b');
});

test('WaitForFirstConsumer: nothing without a node; with a node, only volumes whose affinity admits it', () => {
  const affinity = (host: string) => ({ nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [host] }] }] } } });
  const pvs = [pv('on-a', affinity('a')), pv('on-b', { ...affinity('b'), capacity: { storage: '600Mi' } })];
  assert.equal(findBestMatch(pvs, pvc(), { delayBinding: true }), undefined);
  assert.equal(findBestMatch(pvs, pvc(), { delayBinding: true, node: node('a') })?.metadata.name, 'on-a');
  assert.equal(findBestMatch(pvs, pvc(), { delayBinding: true, node: node('c') }), undefined);
  assert.equal(volumeFitsNode(pv('anywhere', {}), node('c')), true);
  assert.equal(volumeFitsNode(pvs[1], node('b')), true);
});
