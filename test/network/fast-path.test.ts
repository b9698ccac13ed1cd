// The start/exit fast path: a two-phase attach (namespace first, plugins
// later), portmap only for containers that publish ports, and DELs that run
// at once while a new attach waits for them, all with exact cleanup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isNetnsMounted } from '../../src/network/netns.js';
import { hostState, newTestNet, ourIptables, runInNetns, suffix } from './fixture.js';

const recordOf = async (root: string, id: string): Promise<{ confList: { plugins: { type: string }[] }; complete: boolean }> =>
  JSON.parse(await readFile(join(root, 'network', 'attachments', `${id}.json`), 'utf8'));

test('beginAttach: the namespace exists before the plugins finish; configured brings the address; detach cleans up', async () => {
  const t = await newTestNet();
  const id = `p${suffix()}`;
  try {
    await t.net.attach(`warm${suffix()}`, []);
    const before = await hostState(t, [id]);
    const pending = await t.net.beginAttach(id, []);
    assert.ok(await isNetnsMounted(pending.netnsPath), 'namespace mounted when beginAttach resolves');
    // Loopback is up from the start (no loopback plugin runs).
    const lo = await runInNetns(pending.netnsPath, 'ip', ['-o', 'link', 'show', 'dev', 'lo']);
    assert.match(lo.stdout, /<LOOPBACK,UP,LOWER_UP>/);
    const a = await pending.configured;
    assert.equal(a.netnsPath, pending.netnsPath);
    assert.ok(a.ip.startsWith(t.subnetPrefix), `address ${a.ip} in the subnet`);
    const rec = await recordOf(t.root, id);
    assert.equal(rec.complete, true);
    await t.net.detach(id);
    assert.deepEqual(await hostState(t, [id]), before);
  } finally {
    await t.cleanup();
  }
});

const pluginsRun = { direct: { plain: [], published: ['portmap'] }, cni: { plain: ['bridge'], published: ['bridge', 'portmap'] } } as const;
for (const wiring of ['direct', 'cni'] as const) {
  test(`portmap runs only for a container that publishes ports (${wiring} wiring)`, async () => {
    const t = await newTestNet(24, undefined, wiring);
    const [plain, published] = [`n${suffix()}`, `p${suffix()}`];
    try {
      await t.net.attach(plain, []);
      await t.net.attach(published, [{ hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' }]);
      assert.deepEqual((await recordOf(t.root, plain)).confList.plugins.map((p) => p.type), pluginsRun[wiring].plain);
      assert.deepEqual((await recordOf(t.root, published)).confList.plugins.map((p) => p.type), pluginsRun[wiring].published);
      // No DNAT chain for the plain one, one for the published one.
      const rules = await ourIptables(t, [plain, published]);
      assert.ok(rules.some((l) => l.includes(`id: \\"${published}\\"`) && l.includes('CNI-DN-')), 'DNAT chain for the published container');
      assert.ok(!rules.some((l) => l.includes(`id: \\"${plain}\\"`) && l.includes('CNI-DN-')), 'no DNAT chain for the plain container');
    } finally {
      await t.cleanup();
    }
  });
}

test('attaches racing detaches: every attach gets its own address and rules, and all is released after', async () => {
  const t = await newTestNet(28); // 13 addresses: released ones come round again soon
  const ids = Array.from({ length: 4 }, () => `r${suffix()}`);
  try {
    await t.net.attach(`warm${suffix()}`, []);
    const before = await hostState(t, ids);
    for (const id of ids.slice(0, 2)) await t.net.attach(id, []);
    // Two leave while two arrive.
    const [, , c, d] = await Promise.all([t.net.detach(ids[0]!), t.net.detach(ids[1]!), t.net.attach(ids[2]!, []), t.net.attach(ids[3]!, [])]);
    assert.notEqual(c!.ip, d!.ip);
    // Each got its own address on a working link: the gateway answers.
    for (const a of [c!, d!]) {
      const ping = await runInNetns(a.netnsPath, 'busybox', ['ping', '-c', '1', '-W', '5', a.gateway]);
      assert.equal(ping.code, 0, `${a.ip}: ${ping.stdout}${ping.stderr}`);
    }
    await Promise.all([t.net.detach(ids[2]!), t.net.detach(ids[3]!)]);
    assert.deepEqual(await hostState(t, ids), before);
  } finally {
    await t.cleanup();
  }
});
