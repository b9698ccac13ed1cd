// A container's life on a real bridge network: real netns, veth, bridge,
// iptables and CNI plugins, as root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from '../../src/util/exec-file.js';
import {
  bridgeExists,
  bridgePorts,
  eventually,
  hostState,
  httpGet,
  httpGetInNetns,
  newTestNet,
  ourIptables,
  runInNetns,
  startInNetns,
  suffix,
  type NsProcess,
} from './fixture.js';

const UDP_ECHO = `
const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, r) => s.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
s.bind(5353);`;

async function udpAsk(host: string, port: number, msg: string): Promise<string | undefined> {
  const sock = createSocket('udp4');
  try {
    return await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 500);
      sock.on('message', (m) => {
        clearTimeout(timer);
        resolve(m.toString());
      });
      sock.send(msg, port, host);
    });
  } finally {
    sock.close();
  }
}

test('attach: address in the subnet, gateway reachable, published TCP and UDP ports, masquerade, detach and destroy clean up', async () => {
  const t = await newTestNet();
  const procs: NsProcess[] = [];
  const www = await mkdtemp(join(tmpdir(), 'tug-net-www-'));
  const id = `c${suffix()}`;
  try {
    const before = await hostState(t, [id]);
    const a = await t.net.attach(id, [
      { hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' },
      { hostIp: '127.0.0.1', hostPort: 0, containerPort: 5353, protocol: 'udp' },
    ]);
    assert.ok(a.ip.startsWith(t.subnetPrefix), `${a.ip} in ${t.net.subnet}`);
    assert.equal(a.prefixLen, 24);
    assert.equal(a.gateway, `${t.subnetPrefix}1`);
    assert.match(a.mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    assert.equal(a.ports.length, 2);
    for (const p of a.ports) assert.ok(p.hostPort > 0, 'host port chosen');

    // Inside the namespace: eth0 has the address, the default route goes to the gateway.
    const addr = await runInNetns(a.netnsPath, 'ip', ['-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    assert.match(addr.stdout, new RegExp(`inet ${a.ip.replaceAll('.', '\\.')}/24`));
    const ping = await runInNetns(a.netnsPath, 'busybox', ['ping', '-c', '1', '-W', '5', a.gateway]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);

    // Published TCP port: from the host via 127.0.0.1 and via the bridge (gateway) address.
    const token = `hello-${suffix()}`;
    await writeFile(join(www, 'index.html'), token);
    procs.push(startInNetns(a.netnsPath, 'busybox', ['httpd', '-f', '-p', '80', '-h', www]));
    const tcp = a.ports.find((p) => p.protocol === 'tcp')!;
    assert.equal(await eventually(() => httpGet('127.0.0.1', tcp.hostPort)), token);
    assert.equal(await eventually(() => httpGet(a.gateway, tcp.hostPort)), token);
    // And straight to the container address.
    assert.equal(await eventually(() => httpGet(a.ip, 80)), token);

    // Published UDP port (bound to 127.0.0.1): a round trip through the DNAT.
    procs.push(startInNetns(a.netnsPath, process.execPath, ['-e', UDP_ECHO]));
    const udp = a.ports.find((p) => p.protocol === 'udp')!;
    assert.equal(udp.hostIp, '127.0.0.1');
    const msg = `ping-${suffix()}`;
    assert.equal(await eventually(() => udpAsk('127.0.0.1', udp.hostPort, msg), 20), `echo:${msg}`);

    // Outbound NAT, per network: POSTROUTING sends the subnet to the network's chain, which masquerades.
    const nat = await ourIptables(t, [id]);
    const jump = nat.find((l) => l.startsWith(`nat -A POSTROUTING -s ${t.net.subnet} `));
    assert.ok(jump, `no POSTROUTING rule for ${t.net.subnet}:\n${nat.join('\n')}`);
    const chain = jump.split(' -j ')[1]!;
    assert.ok(
      nat.some((l) => l.startsWith(`nat -A ${chain} `) && l.includes('-j MASQUERADE')),
      `no MASQUERADE in ${chain}`,
    );
    // No per-container rule at all: nothing names the container's address.
    assert.deepEqual(nat.filter((l) => l.includes(`${a.ip}/32`)), []);
    // FORWARD accepts for the subnet (work under a FORWARD DROP policy).
    const fwd = nat.find((l) => l.startsWith('filter -A FORWARD ') && t.net.ruleChains.some((c) => l.endsWith(`-j ${c}`)));
    assert.ok(fwd, `no FORWARD jump for the network:\n${nat.join('\n')}`);
    assert.ok(nat.some((l) => l === `filter -A ${fwd.split(' -j ')[1]} -s ${t.net.subnet} -j ACCEPT`));
    assert.equal((await bridgePorts(t)).length, 1);

    for (const p of procs.splice(0)) await p.stop();
    await t.net.detach(id);
    await t.net.detach(id); // idempotent
    const after = await hostState(t, [id]);
    // Only the network's own chains stay until destroy.
    const notNetworks = (l: string) => !t.net.ruleChains.some((c) => l.includes(c));
    assert.deepEqual(after.iptables.filter(notNetworks), before.iptables.filter(notNetworks));
    assert.deepEqual({ ...after, iptables: [] }, { ...before, iptables: [] });
    assert.ok(await bridgeExists(t.net.bridgeName), 'bridge stays until destroy');

    await t.net.destroy();
    assert.equal(await bridgeExists(t.net.bridgeName), false);
    assert.deepEqual(await ourIptables(t, [id]), []);
  } finally {
    for (const p of procs) await p.stop();
    await t.cleanup();
    await rm(www, { recursive: true, force: true });
  }
});

test('two attachments get different addresses and reach each other, also through a published port (hairpin)', async () => {
  const t = await newTestNet();
  const procs: NsProcess[] = [];
  const www = await mkdtemp(join(tmpdir(), 'tug-net-www-'));
  const [ida, idb] = [`a${suffix()}`, `b${suffix()}`];
  try {
    const a = await t.net.attach(ida, [{ hostIp: '', hostPort: 0, containerPort: 8080, protocol: 'tcp' }]);
    const b = await t.net.attach(idb, []);
    assert.notEqual(a.ip, b.ip);
    assert.notEqual(a.netnsPath, b.netnsPath);
    const ping = await runInNetns(b.netnsPath, 'busybox', ['ping', '-c', '1', '-W', '5', a.ip]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);

    const token = `peer-${suffix()}`;
    await writeFile(join(www, 'index.html'), token);
    procs.push(startInNetns(a.netnsPath, 'busybox', ['httpd', '-f', '-p', '8080', '-h', www]));
    const wget = (url: string) => httpGetInNetns(b.netnsPath, url);
    assert.equal(await eventually(() => wget(`http://${a.ip}:8080/`)), token);
    // B -> gateway:hostPort -> DNAT back onto the same bridge -> A.
    assert.equal(await eventually(() => wget(`http://${a.gateway}:${a.ports[0]!.hostPort}/`)), token);
    // A reaches its own published port through the host (hairpin mode + portmap SNAT).
    const self = await eventually(() => httpGetInNetns(a.netnsPath, `http://${a.gateway}:${a.ports[0]!.hostPort}/`), 10);
    assert.equal(self, token);
  } finally {
    for (const p of procs) await p.stop();
    await t.cleanup();
    await rm(www, { recursive: true, force: true });
  }
});

test('an unknown container detaches as a no-op and a second attach of the same id is a conflict', async () => {
  const t = await newTestNet();
  const id = `c${suffix()}`;
  try {
    await t.net.detach(`never${suffix()}`);
    await t.net.attach(id, []);
    await assert.rejects(t.net.attach(id, []), (e: Error & { kind?: string }) => e.kind === 'conflict');
    await assert.rejects(t.net.attach('../escape', []), (e: Error & { kind?: string }) => e.kind === 'invalid');
    await assert.rejects(
      t.net.attach(`x${suffix()}`, [{ hostIp: '', hostPort: 0, containerPort: 70000, protocol: 'tcp' }]),
      (e: Error & { kind?: string }) => e.kind === 'invalid' && /containerPort/.test(e.message),
    );
  } finally {
    await t.cleanup();
  }
  const links = await runTool('ip', ['-o', 'link', 'show', 'dev', t.net.bridgeName], { allowFailure: true });
  assert.notEqual(links.code, 0, 'destroy removed the bridge');
});
