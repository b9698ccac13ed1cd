// The node IPAM controller's reconcile without a server (as sample-controller's
// tests do): informers seeded from a fake list, the writes recorded. Ranges are
// the lowest free ones, two Nodes never share one even before the cache has
// seen the first patch, a Node with a range keeps it, and a full cluster CIDR
// is an error that names the range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedInformers, refs } from '../../src/kube/client/shared-informers.js';
import type { KubeClient, KubeObject } from '../../src/kube/client/kube-client.js';
import { NodeIpamController, firstFreeRange } from '../../src/controllers/node-ipam-controller.js';
import { formatCidr, parseCidr } from '../../src/network/cidr.js';
import { FakeClient } from './fake-client.js';

const node = (name: string, podCIDR?: string): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, resourceVersion: '1' }, spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {} });

async function setup(nodes: KubeObject[], clusterCidr = '10.42.0.0/16') {
  const fake = new FakeClient().seed(refs.nodes, ...nodes);
  const informers = new SharedInformers(fake);
  const ctl = new NodeIpamController(informers, fake as unknown as KubeClient, { clusterCidr, nodeCidrMaskSize: 24, backend: 'vxlan' });
  await informers.start();
  return { ctl, writes: fake.actions, stop: () => informers.stop() };
}

test('lowest free ranges, never shared, existing ones kept, repeat is idempotent', async () => {
  const { ctl, writes, stop } = await setup([node('a', '10.42.0.0/24'), node('b'), node('c'), node('d', '192.168.5.0/24'), node('e', '10.42.2.0/24')]);
  try {
    await ctl.reconcile('b');
    await ctl.reconcile('c');
    await ctl.reconcile('a');
    await ctl.reconcile('d');
    await ctl.reconcile('b');
    assert.deepEqual(
      writes.map((w) => [w.name, w.body.spec.podCIDR]),
      [
        ['b', '10.42.1.0/24'],
        ['c', '10.42.3.0/24'],
        ['b', '10.42.1.0/24'],
      ],
    );
    assert.deepEqual(writes[0]!.body.spec.podCIDRs, ['10.42.1.0/24']);
    await ctl.reconcile('gone');
    assert.equal(writes.length, 3, 'a Node not in the cache gets nothing');
  } finally {
    stop();
  }
});

test('the cluster network ConfigMap is published; a full cluster CIDR names the range', async () => {
  const { ctl, writes, stop } = await setup([node('a', '10.42.0.0/24'), node('b', '10.42.1.0/24'), node('c')], '10.42.0.0/23');
  try {
    await ctl.reconcile('\0config');
    assert.equal(writes[0]!.verb, 'create');
    assert.equal(writes[0]!.namespace, 'kube-system');
    assert.deepEqual(writes[0]!.body.data, { clusterCIDR: '10.42.0.0/23', nodeCIDRMaskSize: '24', backend: 'vxlan' });
    await assert.rejects(ctl.reconcile('c'), /no free \/24 left in cluster CIDR 10\.42\.0\.0\/23 for node c/);
    await ctl.reconcile('c'); // said once, not on every resync
    assert.equal(writes.length, 1);
  } finally {
    stop();
  }
});


test('first free range: taken ranges wider, narrower, unaligned or outside the cluster CIDR', () => {
  const free = (cluster: string, mask: number, taken: string[]) => {
    const r = firstFreeRange(parseCidr(cluster), mask, taken.map(parseCidr));
    return r && formatCidr(r);
  };
  assert.equal(free('10.42.0.0/16', 24, []), '10.42.0.0/24');
  assert.equal(free('10.42.0.0/16', 24, ['10.42.0.0/24', '10.42.2.0/24']), '10.42.1.0/24');
  // A /22 covers four /24 slots; a /30 inside a slot takes the whole slot.
  assert.equal(free('10.42.0.0/16', 24, ['10.42.0.0/22', '10.42.4.8/30']), '10.42.5.0/24');
  // Ranges out of the cluster CIDR, or covering it from outside, count only where they overlap it.
  assert.equal(free('10.42.0.0/16', 24, ['10.41.0.0/24', '10.43.0.0/16']), '10.42.0.0/24');
  assert.equal(free('10.42.0.0/16', 24, ['10.0.0.0/8']), undefined);
  // Full, and full but for the last slot.
  const all = Array.from({ length: 4 }, (_, i) => `192.168.${i}.0/24`);
  assert.equal(free('192.168.0.0/22', 24, all), undefined);
  assert.equal(free('192.168.0.0/22', 24, all.slice(0, 3)), '192.168.3.0/24');
  // The top of the address space.
  assert.equal(free('255.255.255.0/24', 30, ['255.255.255.0/25']), '255.255.255.128/30');
});
