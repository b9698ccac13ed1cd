// The engine starts and stops containers concurrently: attaches racing on one
// network must still get distinct addresses and ports, and racing detaches
// must leave the network as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostState, newTestNet, suffix } from './fixture.js';

test('concurrent attaches get distinct addresses and host ports; concurrent detaches clean up', async () => {
  const t = await newTestNet();
  const ids = Array.from({ length: 6 }, (_, i) => `p${i}${suffix()}`);
  try {
    await t.net.attach(`warm${suffix()}`, []);
    const before = await hostState(t, ids);
    const atts = await Promise.all(
      ids.map((id) => t.net.attach(id, [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }])),
    );
    assert.equal(new Set(atts.map((a) => a.ip)).size, ids.length);
    assert.equal(new Set(atts.map((a) => a.ports[0]!.hostPort)).size, ids.length);
    for (const a of atts) assert.ok(a.ip.startsWith(t.subnetPrefix));
    assert.equal((await hostState(t, ids)).leases.length, before.leases.length + ids.length);
    await Promise.all(ids.map((id) => t.net.detach(id)));
    assert.deepEqual(await hostState(t, ids), before);
  } finally {
    await t.cleanup();
  }
});
