// Two namespace-nodes on the host-gw backend (plain routes via the other
// node's address, no tunnel), and the node IPAM controller's bookkeeping seen
// through kubectl: a new Node gets the lowest free range, a deleted Node's
// range is handed out again; routes follow Nodes as they come and go.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { firstFreeRange, validateClusterNetwork } from '../../src/controllers/node-ipam-controller.js';
import { formatCidr, parseCidr } from '../../src/network/cidr.js';
import { startMultiNodeCluster, hostLeftovers, type MultiNodeCluster } from '../helpers/multinode.js';

let c: MultiNodeCluster;

before(async () => {
  c = await startMultiNodeCluster({ nodes: 2, backend: 'host-gw' });
});

after(async () => {
  if (!c) return;
  await c.stop();
  assert.deepEqual(await hostLeftovers(c), []);
});

const podCidrOf = async (node: string): Promise<string | undefined> => JSON.parse((await c.kubectl(['get', 'node', node, '-o', 'json'])).stdout).spec?.podCIDR;

test('host-gw: each node routes the other range via its address, and pods talk without NAT or a tunnel', async () => {
  const [a, b] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
  const bRange = (await c.until('b has a range', () => podCidrOf(b.name)))!;
  const routes = (await c.inNode(a, ['ip', 'route'])).stdout;
  assert.match(routes, new RegExp(`${bRange.replace(/\./g, '\\.')} via ${b.ip.replace(/\./g, '\\.')} dev eth0`));
  assert.equal((await c.inNode(a, ['ip', 'link', 'show', 'tug.vxlan'], { allowFailure: true })).code === 0, false, 'no VXLAN device on host-gw');
  const pods = [
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'srv' }, spec: { nodeName: b.name, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n' > /www/cgi-bin/ip && chmod +x /www/cgi-bin/ip && exec httpd -f -p 8080 -h /www"] }] } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'cli' }, spec: { nodeName: a.name, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } },
  ];
  await c.kubectl(['apply', '-f', '-'], { input: pods.map((p) => stringify(p)).join('---\n') });
  const ips = await c.until('both pods running', async () => {
    const items = JSON.parse((await c.kubectl(['get', 'pods', '-o', 'json'])).stdout).items as any[];
    const m = new Map(items.filter((p) => p.status?.phase === 'Running' && p.status.podIP).map((p) => [p.metadata.name, p.status.podIP as string]));
    return m.size === 2 ? m : undefined;
  });
  const seen = await c.until('cli reaches srv', async () => {
    const r = await c.kubectl(['exec', 'cli', '--', 'timeout', '5', 'wget', '-q', '-O', '-', `http://${ips.get('srv')}:8080/cgi-bin/ip`], { allowFailure: true });
    return r.code === 0 ? r.stdout.trim() : undefined;
  }, 60);
  assert.equal(seen.replace(/^\[::ffff:/, '').replace(/\]$/, ''), ips.get('cli'));
});

test('node IPAM: a new Node gets the lowest free range, a deleted Node gives its range back', async () => {
  const taken = await Promise.all(c.nodes.map((n) => c.until(`${n.name} range`, () => podCidrOf(n.name))));
  const expected = formatCidr(firstFreeRange(parseCidr(c.clusterCidr), 24, taken.map((t) => parseCidr(t!)))!);
  const node = (name: string) => stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
  await c.kubectl(['apply', '-f', '-'], { input: node('fake-a') });
  assert.equal(await c.until('fake-a range', () => podCidrOf('fake-a')), expected);
  await c.kubectl(['apply', '-f', '-'], { input: node('fake-b') });
  const bRange = await c.until('fake-b range', () => podCidrOf('fake-b'));
  assert.notEqual(bRange, expected);
  // A Node that publishes an address gets a route on every node; deleting the Node takes the route away.
  const [a] = c.nodes;
  const peerIp = c.hostIp.replace(/\.1$/, '.99');
  await c.kubectl(['annotate', 'node', 'fake-a', `network.tug.io/public-ip=${peerIp}`, 'network.tug.io/backend-type=host-gw']);
  const route = new RegExp(`${expected.replace(/\./g, '\\.')} via ${peerIp.replace(/\./g, '\\.')}`);
  await c.until('route to fake-a', async () => route.test((await c.inNode(a!, ['ip', 'route'])).stdout), 40);
  await c.kubectl(['delete', 'node', 'fake-a']);
  await c.until('route to fake-a removed', async () => !route.test((await c.inNode(a!, ['ip', 'route'])).stdout), 40);
  await c.kubectl(['apply', '-f', '-'], { input: node('fake-c') });
  assert.equal(await c.until('fake-c range', () => podCidrOf('fake-c')), expected, "fake-a's range is free again");
  // The cluster's network as agents read it.
  const cm = JSON.parse((await c.kubectl(['-n', 'kube-system', 'get', 'configmap', 'tug-network', '-o', 'json'])).stdout);
  assert.deepEqual(cm.data, { clusterCIDR: c.clusterCidr, nodeCIDRMaskSize: '24', backend: 'host-gw' });
  await c.kubectl(['delete', 'node', 'fake-b', 'fake-c']);
});

test('node IPAM ranges and flags: bad input names the flag', () => {
  assert.equal(formatCidr(firstFreeRange(parseCidr('10.42.0.0/16'), 24, [parseCidr('10.42.0.0/24'), parseCidr('10.42.2.0/24')])!), '10.42.1.0/24');
  assert.equal(firstFreeRange(parseCidr('10.42.0.0/23'), 24, [parseCidr('10.42.0.0/23')]), undefined, 'full');
  assert.throws(() => validateClusterNetwork({ clusterCidr: '10.42.0.0/16', nodeCidrMaskSize: 12, backend: 'vxlan' }), /--node-cidr-mask-size 12/);
  assert.throws(() => validateClusterNetwork({ clusterCidr: '10.42.0.0/16', nodeCidrMaskSize: 24, backend: 'wireguard' as never }), /--network-backend/);
  assert.throws(() => validateClusterNetwork({ clusterCidr: 'ten', nodeCidrMaskSize: 24, backend: 'vxlan' }), /ten/);
});
