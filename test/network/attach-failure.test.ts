// A failed attach undoes everything it did: no namespace, veth, iptables rule,
// lease or record is left, and the caller sees the real reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { isKind } from '../../src/errdefs.js';
import { hostState, newTestNet, suffix } from './fixture.js';

test('a host port some process listens on is a conflict and leaves nothing behind', async () => {
  const t = await newTestNet();
  const squatter = createServer();
  const id = `c${suffix()}`;
  try {
    await new Promise<void>((r) => squatter.listen({ host: '0.0.0.0', port: 0 }, () => r()));
    const port = (squatter.address() as { port: number }).port;
    // Warm the network up so its bridge and admin chain exist before the snapshot.
    await t.net.attach(`warm${suffix()}`, []);
    const before = await hostState(t, [id]);
    await assert.rejects(
      t.net.attach(id, [
        { hostIp: '', hostPort: 0, containerPort: 81, protocol: 'tcp' },
        { hostIp: '', hostPort: port, containerPort: 80, protocol: 'tcp' },
      ]),
      (e: Error) => isKind(e, 'conflict') && /port is already allocated/.test(e.message) && e.message.includes(String(port)),
    );
    assert.deepEqual(await hostState(t, [id]), before);
  } finally {
    squatter.close();
    await t.cleanup();
  }
});

test('a host port another attachment publishes is a conflict; it is free again after detach', async () => {
  const t = await newTestNet();
  const [ida, idb] = [`a${suffix()}`, `b${suffix()}`];
  try {
    const a = await t.net.attach(ida, [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'udp' }]);
    const port = a.ports[0]!.hostPort;
    const before = await hostState(t, [idb]);
    await assert.rejects(
      t.net.attach(idb, [{ hostIp: '', hostPort: port, containerPort: 80, protocol: 'udp' }]),
      (e: Error) => isKind(e, 'conflict') && /port is already allocated/.test(e.message),
    );
    assert.deepEqual(await hostState(t, [idb]), before);
    // Same number, other protocol: no clash.
    const tcpSame = await t.net.attach(idb, [{ hostIp: '', hostPort: port, containerPort: 80, protocol: 'tcp' }]);
    assert.equal(tcpSame.ports[0]!.hostPort, port);
    await t.net.detach(idb);
    await t.net.detach(ida);
    const again = await t.net.attach(idb, [{ hostIp: '', hostPort: port, containerPort: 80, protocol: 'udp' }]);
    assert.equal(again.ports[0]!.hostPort, port);
  } finally {
    await t.cleanup();
  }
});

const exhausted = {
  direct: (e: Error) => isKind(e, 'unavailable') && /no available IPv4 addresses/.test(e.message),
  cni: (e: Error) => /cni bridge ADD/.test(e.message) && /no IP addresses available/.test(e.message),
};
for (const wiring of ['direct', 'cni'] as const) {
  test(`an exhausted address pool (${wiring} wiring: ${wiring === 'cni' ? "host-local's" : "tug's allocator's"} message) is fully undone`, async () => {
    // A /30 has one address for a container after the gateway.
    const t = await newTestNet(30, undefined, wiring);
    const [ida, idb] = [`a${suffix()}`, `b${suffix()}`];
    try {
      const a = await t.net.attach(ida, [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }]);
      assert.ok(a.ip.startsWith(t.subnetPrefix));
      const before = await hostState(t, [idb]);
      await assert.rejects(
        t.net.attach(idb, [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }]),
        exhausted[wiring],
      );
      assert.deepEqual(await hostState(t, [idb]), before);
      // The failed id is not half-attached: it attaches once a detach frees the address.
      await t.net.detach(ida);
      const b = await t.net.attach(idb, []);
      assert.equal(b.ip, a.ip);
    } finally {
      await t.cleanup();
    }
  });
}
