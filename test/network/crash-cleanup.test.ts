// detach must finish the job from the record alone, even when the daemon died
// in the middle of an attach or the namespace vanished (reboot, stray umount).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from '../../src/util/exec-file.js';
import { hostState, newTestNet, suffix } from './fixture.js';

test('detach after a crash mid-attach (record without a result) releases rules, lease and namespace', async () => {
  const t = await newTestNet();
  const id = `c${suffix()}`;
  try {
    await t.net.attach(`warm${suffix()}`, []);
    const before = await hostState(t, [id]);
    const a = await t.net.attach(id, [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }]);
    assert.notDeepEqual(await hostState(t, [id]), before);
    // What a daemon killed while the plugins ran would have left on disk.
    const recPath = join(t.root, 'network', 'attachments', `${id}.json`);
    const rec = JSON.parse(await readFile(recPath, 'utf8')) as Record<string, unknown>;
    delete rec.result;
    rec.complete = false;
    await writeFile(recPath, JSON.stringify(rec));
    await t.net.close(); // the dead daemon's sockets are gone too
    await t.net.detach(id);
    assert.deepEqual(await hostState(t, [id]), before);
    assert.ok(!(await hostState(t, [id])).iptables.some((l) => l.includes(`${a.ip}/`)));
  } finally {
    await t.cleanup();
  }
});

test('detach after the namespace was unmounted (as after a reboot) still releases everything', async () => {
  const t = await newTestNet();
  const id = `c${suffix()}`;
  try {
    await t.net.attach(`warm${suffix()}`, []);
    const before = await hostState(t, [id]);
    const a = await t.net.attach(id, [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'udp' }]);
    await runTool('umount', [a.netnsPath]);
    await t.net.detach(id);
    assert.deepEqual(await hostState(t, [id]), before);
  } finally {
    await t.cleanup();
  }
});
