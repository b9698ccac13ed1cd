// Direct wiring (bridge-network.ts): tug makes the veth, address, route and
// loopback itself with one `ip -batch` in the container's namespace, with its
// own allocator. What the bridge plugin gave must still be there (names, MTU,
// MAC, hairpin, default route); the record is the lease from before the link
// exists; a detach frees the address for the next attach; a crash at any
// point of a setup is undone from the record by the next daemon's recover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BridgeNetwork, dockerMac } from '../../src/network/bridge-network.js';
import { createNetns, isNetnsMounted } from '../../src/network/netns.js';
import { runTool } from '../../src/util/exec-file.js';
import { bridgePorts, hostState, newTestNet, runInNetns, suffix, unusedSubnet } from './fixture.js';

async function linkJson(netnsPath: string | undefined, dev: string): Promise<any> {
  const args = ['-j', '-d', 'link', 'show', 'dev', dev];
  const r = netnsPath ? await runInNetns(netnsPath, 'ip', args) : await runTool('ip', args, { allowFailure: true });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout)[0];
}

test('direct wiring: eth0 with the address, Docker MAC, MTU and default route, lo up, host end on the bridge with hairpin; the address is reused after detach', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-net-'));
  const subnet = await unusedSubnet();
  const net = new BridgeNetwork({ root: dir, bridgeName: `tugt${suffix()}`, subnet, mtu: 1400, wiring: 'direct' });
  const prefix = subnet.split('.').slice(0, 3).join('.') + '.';
  const [a, b] = [`a${suffix()}`, `b${suffix()}`];
  try {
    const att = await net.attach(a, []);
    assert.equal(att.ip, `${prefix}2`, 'the first address after the gateway');
    assert.equal(att.gateway, `${prefix}1`);
    assert.equal(att.mac, dockerMac(att.ip));
    const eth0 = await linkJson(att.netnsPath, 'eth0');
    assert.equal(eth0.mtu, 1400);
    assert.equal(eth0.address, dockerMac(att.ip));
    assert.ok(eth0.flags.includes('UP'), JSON.stringify(eth0.flags));
    const lo = await linkJson(att.netnsPath, 'lo');
    assert.ok(lo.flags.includes('UP'));
    const addr = await runInNetns(att.netnsPath, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    assert.match(addr.stdout, new RegExp(`inet ${att.ip.replace(/\./g, '\\.')}/24 `));
    const route = await runInNetns(att.netnsPath, 'ip', ['-4', 'route', 'show', 'default']);
    assert.equal(route.stdout.trim(), `default via ${prefix}1 dev eth0`);
    // The host end: on the bridge, up, hairpin on, named veth* as the bridge plugin named them.
    const rec = JSON.parse(await readFile(join(dir, 'network', 'attachments', `${a}.json`), 'utf8'));
    assert.match(rec.hostIf, /^veth[0-9a-f]{8}$/);
    assert.equal(rec.address, att.ip);
    const host = await linkJson(undefined, rec.hostIf);
    assert.equal(host.master, net.bridgeName);
    assert.equal(host.mtu, 1400);
    assert.equal(host.linkinfo.info_slave_data.hairpin, true);
    // The bridge got the MTU and the gateway.
    assert.equal((await linkJson(undefined, net.bridgeName)).mtu, 1400);
    // Reachable from the host over the bridge.
    const ping = await runInNetns(att.netnsPath, 'busybox', ['ping', '-c', '1', '-W', '2', `${prefix}1`]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);

    await net.detach(a);
    assert.deepEqual(await bridgePorts({ net, root: dir, subnetPrefix: prefix, cleanup: async () => undefined }), []);
    assert.equal((await runTool('ip', ['link', 'show', 'dev', rec.hostIf], { allowFailure: true })).code, 1, 'host end gone');
    // Freed: the next container gets it.
    const again = await net.attach(b, []);
    assert.equal(again.ip, att.ip);
  } finally {
    await net.destroy();
    await rm(dir, { recursive: true, force: true });
  }
});

test('prepareAttach: the lease is on disk before any link exists; a crash after the link (no finish) is undone by the next daemon', async () => {
  const t = await newTestNet(24, undefined, 'direct');
  const [id, warm] = [`p${suffix()}`, `warm${suffix()}`];
  try {
    await t.net.attach(warm, []);
    const before = await hostState(t, [id]);
    const netnsPath = join(t.root, 'pins', id);
    const prepared = await t.net.prepareAttach(id, netnsPath);
    const rec = JSON.parse(await readFile(join(t.root, 'network', 'attachments', `${id}.json`), 'utf8'));
    assert.equal(rec.complete, false);
    assert.ok(rec.address.startsWith(t.subnetPrefix));
    assert.equal((await runTool('ip', ['link', 'show', 'dev', rec.hostIf], { allowFailure: true })).code, 1, 'no link yet');
    // The pod's spawn: the namespace made and wired by one process. Then the daemon dies.
    await createNetns(netnsPath, prepared.ipBatch);
    assert.equal((await bridgePorts(t)).length, before.bridgePorts.length + 1);
    await t.net.close();

    // The next daemon: the engine has the warm container, no longer this one.
    const next = new BridgeNetwork({ root: t.root, bridgeName: t.net.bridgeName, subnet: t.net.subnet, wiring: 'direct' });
    // Its owner (the pod sandboxes) unpins the namespace; the network drops veth and lease.
    await runTool('umount', ['-l', netnsPath]);
    await next.recover([warm]);
    assert.equal(await isNetnsMounted(netnsPath), false);
    assert.deepEqual(await hostState(t, [id]), before);
    assert.equal((await runTool('ip', ['link', 'show', 'dev', rec.hostIf], { allowFailure: true })).code, 1, 'host end gone');
  } finally {
    await t.cleanup();
  }
});

test('a shared namespace (user networks): detach deletes the veth while the namespace stays', async () => {
  const t = await newTestNet(24, undefined, 'direct');
  const id = `s${suffix()}`;
  const netnsPath = join(t.root, 'sandbox', id);
  try {
    await createNetns(netnsPath);
    const att = await t.net.attach(id, [], { netnsPath, ifName: 'eth1' });
    assert.equal((await runInNetns(netnsPath, 'ip', ['link', 'show', 'dev', 'eth1'])).code, 0);
    assert.equal(att.netnsPath, netnsPath);
    await t.net.detach(id);
    assert.equal(await isNetnsMounted(netnsPath), true, 'the engine owns the namespace');
    assert.equal((await runInNetns(netnsPath, 'ip', ['link', 'show', 'dev', 'eth1'])).code, 1, 'eth1 gone');
    assert.deepEqual(await bridgePorts(t), []);
  } finally {
    await runTool('umount', ['-l', netnsPath], { allowFailure: true });
    await t.cleanup();
  }
});
