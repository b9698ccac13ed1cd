// The service proxy's restores are rate-limited as kube-proxy's (one a second
// after a burst of two) and skipped when the rules did not change; the periodic
// re-sync still repairs rules someone else removed. SyncBucket is checked as a
// pure function; IptablesProgrammer against the host's real iptables, with its
// own chain tag and an address of the benchmark range (198.18.0.0/15) that no
// test cluster uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { runTool } from '../../src/util/exec-file.js';
import { SyncBucket } from '../../src/util/sync-bucket.js';
import { IptablesProgrammer } from '../../src/node/proxy/iptables-programmer.js';
import { buildRules, chainNames } from '../../src/node/proxy/service-rules.js';
import type { BackendPort } from '../../src/node/proxy/service-endpoints.js';

test('SyncBucket: two runs at once after a quiet spell, then one per interval; quiet refills it', () => {
  const t = 1_000_000;
  const b = new SyncBucket(1000, 2, t);
  assert.equal(b.delay(t), 0);
  b.take(t);
  assert.equal(b.delay(t), 0, 'the second of a burst is not delayed');
  b.take(t);
  assert.equal(b.delay(t), 1000, 'the third waits a whole interval');
  assert.equal(b.delay(t + 400), 600);
  b.take(t + 1000);
  assert.equal(b.delay(t + 1000), 1000, 'a stream of changes: one run per interval');
  assert.equal(b.delay(t + 10_000), 0, 'quiet: the burst is back');
  b.take(t + 10_000);
  assert.equal(b.delay(t + 10_000), 0);
  const none = new SyncBucket(0, 2, t);
  none.take(t);
  none.take(t);
  none.take(t);
  assert.equal(none.delay(t), 0, 'no interval: never waits');
});

test('IptablesProgrammer: the same rules are unchanged (no restore needed), new endpoints are not; a forced apply repairs a flushed chain; remove leaves nothing', async () => {
  const bridge = `tps${randomBytes(3).toString('hex')}`;
  const c = chainNames(bridge);
  const svc = { metadata: { namespace: 'ns', name: 'web' }, spec: { clusterIP: '198.18.254.7', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } };
  const backends = (ips: string[]): Map<string, BackendPort[]> => new Map([['ns/web', [{ name: 'http', protocol: 'TCP', port: 8080, addresses: ips.map((ip) => ({ ip, ready: true })) }]]]);
  const rules = (ips: string[]) => buildRules(c, { services: [svc], backends: backends(ips), podCidr: '198.19.254.0/24' });
  const natSave = async () => (await runTool('iptables-save', ['-t', 'nat'])).stdout;
  const p = new IptablesProgrammer(c, bridge);
  try {
    let restores = 0;
    const before = () => restores++;
    assert.equal(await p.apply(rules(['198.19.254.2']), { before }), true, 'nothing written yet: restored');
    assert.match(await natSave(), /DNAT .*--to-destination 198\.19\.254\.2:8080/);
    assert.equal(await p.apply(rules(['198.19.254.2']), { before }), false, 'the same rules: no restore');
    assert.equal(await p.apply(rules(['198.19.254.2', '198.19.254.3']), { before }), true, 'a new endpoint: restored');
    assert.equal(restores, 2, 'before() runs once a restore');
    assert.match(await natSave(), /--to-destination 198\.19\.254\.3:8080/);
    // Someone flushes our Service chains: the rules still look unchanged to us, which is why the re-sync forces.
    for (const ch of (await natSave()).split('\n').filter((l) => l.startsWith(`:${c.svcPrefix}`)).map((l) => l.slice(1).split(' ')[0]!)) {
      await runTool('iptables', ['-w', '10', '-t', 'nat', '-F', ch]);
    }
    const jumpsToEndpoints = async () => (await natSave()).split('\n').some((l) => l.startsWith(`-A ${c.svcPrefix}`) && l.includes(`-j ${c.sepPrefix}`));
    assert.equal(await jumpsToEndpoints(), false, 'flushed');
    assert.equal(await p.apply(rules(['198.19.254.2', '198.19.254.3'])), false, 'unchanged to us');
    assert.equal(await jumpsToEndpoints(), false, 'so still flushed');
    assert.equal(await p.apply(rules(['198.19.254.2', '198.19.254.3']), { force: true }), true);
    assert.equal(await jumpsToEndpoints(), true, 'the Service chain jumps to its endpoints again');
  } finally {
    await p.remove();
  }
  const left = (await natSave()) + (await runTool('iptables-save', ['-t', 'filter'])).stdout;
  assert.ok(!left.includes(c.tag), `no chain or rule of tag ${c.tag} left`);
});
