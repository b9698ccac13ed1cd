// Subnet arithmetic, route overlap against the real routing table, host port
// allocation and iptables rule parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { allocateHostPort, subnetOverlapsRoute } from '../../src/network/bridge-network.js';
import { cidrsOverlap, formatCidr, parseCidr } from '../../src/network/cidr.js';
import { splitRule } from '../../src/network/iptables.js';
import { runTool } from '../../src/util/exec-file.js';
import { isKind } from '../../src/errdefs.js';
import { newTestNet, suffix } from './fixture.js';

test('parseCidr clears host bits and rejects malformed input with invalid', () => {
  assert.equal(formatCidr(parseCidr('10.88.3.7/16')), '10.88.0.0/16');
  assert.equal(formatCidr(parseCidr('192.168.1.1')), '192.168.1.1/32');
  for (const bad of ['10.88.0.0/33', '10.256.0.0/16', '10.88.0/16', 'x/8', '10.0.0.0/8/1']) {
    assert.throws(() => parseCidr(bad), (e: Error) => isKind(e, 'invalid'), bad);
  }
  assert.equal(cidrsOverlap(parseCidr('10.0.0.0/8'), parseCidr('10.200.1.0/24')), true);
  assert.equal(cidrsOverlap(parseCidr('10.200.1.0/24'), parseCidr('10.200.2.0/24')), false);
  assert.equal(cidrsOverlap(parseCidr('10.200.1.128/25'), parseCidr('10.200.1.0/24')), true);
});

test('subnetOverlapsRoute sees the host routes and a network bridge once it is up', async () => {
  const { stdout } = await runTool('ip', ['-j', '-4', 'route', 'show', 'table', 'main']);
  const linkRoute = (JSON.parse(stdout) as { dst: string }[]).find((r) => r.dst !== 'default' && r.dst.includes('/'));
  if (linkRoute) assert.equal(await subnetOverlapsRoute(linkRoute.dst), true, linkRoute.dst);
  assert.equal(await subnetOverlapsRoute('127.0.0.0/8'), true, 'local table counts');
  const t = await newTestNet();
  try {
    assert.equal(await subnetOverlapsRoute(t.net.subnet), false);
    await t.net.attach(`c${suffix()}`, []);
    assert.equal(await subnetOverlapsRoute(t.net.subnet), true);
    // A second network may not claim a subnet the first one routes.
    const { BridgeNetwork } = await import('../../src/network/bridge-network.js');
    const clash = new BridgeNetwork({ root: t.root, bridgeName: `tugt${suffix()}`, subnet: t.net.subnet });
    await assert.rejects(clash.attach(`c${suffix()}`, []), (e: Error) => isKind(e, 'conflict') && /overlaps/.test(e.message));
  } finally {
    await t.cleanup();
  }
});

test('allocateHostPort returns a free port from the ephemeral range', async () => {
  const [lo, hi] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/).map(Number) as [
    number,
    number,
  ];
  for (const proto of ['tcp', 'udp'] as const) {
    const port = await allocateHostPort(proto, '127.0.0.1');
    assert.ok(port >= lo && port <= hi, `${port} in ${lo}-${hi}`);
  }
  const port = await allocateHostPort('tcp', '');
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen({ host: '0.0.0.0', port }, () => resolve());
  });
  await new Promise((r) => s.close(r));
});

test('splitRule keeps quoted comments whole', () => {
  assert.deepEqual(splitRule('-A POSTROUTING -s 10.1.2.3/32 -m comment --comment "name: \\"n\\" id: \\"c1\\"" -j CNI-abc'), [
    '-A',
    'POSTROUTING',
    '-s',
    '10.1.2.3/32',
    '-m',
    'comment',
    '--comment',
    'name: "n" id: "c1"',
    '-j',
    'CNI-abc',
  ]);
});
