// Daemon restart: a fresh BridgeNetwork on the same root keeps live containers
// and releases everything of the ones the engine no longer has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { BridgeNetwork } from '../../src/network/bridge-network.js';
import { bridgeExists, hostState, leases, listDir, newTestNet, ourIptables, runInNetns, suffix } from './fixture.js';
import { join } from 'node:path';

function canListen(port: number): Promise<boolean> {
  const s = createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.listen({ host: '0.0.0.0', port }, () => s.close(() => resolve(true)));
  });
}

test('recover after a restart: live containers keep address and port, gone ones are released', async () => {
  const t = await newTestNet();
  const [live, gone] = [`live${suffix()}`, `gone${suffix()}`];
  let restarted: BridgeNetwork | undefined;
  try {
    const a = await t.net.attach(live, [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }]);
    const b = await t.net.attach(gone, [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }]);
    assert.equal(await canListen(a.ports[0]!.hostPort), false, 'port held while attached');
    const liveRules = (await ourIptables(t, [live])).filter((l) => l.includes(a.ip) || l.includes(`id: \\"${live}\\"`));

    // "Restart": a new instance on the same root (the old one's sockets go, as a dead process's would).
    await t.net.close();
    assert.equal(await canListen(a.ports[0]!.hostPort), true, 'close() lets go of the port');
    restarted = new BridgeNetwork({ root: t.root, bridgeName: t.net.bridgeName, subnet: t.net.subnet });
    await restarted.recover([live]);

    // The gone container: record, namespace, lease and rules released.
    assert.deepEqual(await listDir(join(t.root, 'network', 'attachments')), [`${live}.json`]);
    assert.deepEqual(await listDir(join(t.root, 'network', 'netns')), [live]);
    assert.deepEqual(await leases(t), [a.ip]);
    const rules = await ourIptables(t, [gone]);
    assert.ok(!rules.some((l) => l.includes(`${b.ip}/`) || l.includes(`id: \\"${gone}\\"`)), rules.join('\n'));
    // The live one: untouched rules, working network, host port held again.
    const liveAfter = (await ourIptables(t, [live])).filter((l) => l.includes(a.ip) || l.includes(`id: \\"${live}\\"`));
    assert.deepEqual(liveAfter, liveRules);
    const ping = await runInNetns(a.netnsPath, 'busybox', ['ping', '-c', '1', '-W', '5', a.gateway]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.equal(await canListen(a.ports[0]!.hostPort), false, 'port held again after recover');

    await restarted.detach(live);
    assert.deepEqual((await hostState(t, [live, gone])).records, []);
  } finally {
    await restarted?.destroy();
    await t.cleanup();
  }
  assert.equal(await bridgeExists(t.net.bridgeName), false);
});

test('two networks with different bridges and subnets coexist; destroying one leaves the other working', async () => {
  const t1 = await newTestNet();
  const t2 = await newTestNet();
  const [id1, id2] = [`n1${suffix()}`, `n2${suffix()}`];
  try {
    const a1 = await t1.net.attach(id1, [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }]);
    const a2 = await t2.net.attach(id2, [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }]);
    assert.ok(a1.ip.startsWith(t1.subnetPrefix) && a2.ip.startsWith(t2.subnetPrefix));
    assert.notEqual(a1.ports[0]!.hostPort, a2.ports[0]!.hostPort);
    const rules2 = await ourIptables(t2, [id2]);
    await t1.cleanup();
    assert.equal(await bridgeExists(t1.net.bridgeName), false);
    assert.deepEqual(await ourIptables(t1, [id1]), []);
    assert.ok(await bridgeExists(t2.net.bridgeName));
    assert.deepEqual(await ourIptables(t2, [id2]), rules2);
    const ping = await runInNetns(a2.netnsPath, 'busybox', ['ping', '-c', '1', '-W', '5', a2.gateway]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  } finally {
    await t1.cleanup();
    await t2.cleanup();
  }
});
