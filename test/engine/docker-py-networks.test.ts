// docker-py's network API against a real tug daemon (test/engine/py/networks.py):
// the shapes compose and SDK users read, and the errors they catch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';

const pyDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/engine/py');
let d: TestDaemon;

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.stop();
});

test('networks: create/get/list/prune, NetworkSettings.Networks, connect/disconnect with aliases, errors', async () => {
  const suffix = randomBytes(4).toString('hex');
  const subnet = `10.${200 + (randomBytes(1)[0]! % 50)}.${randomBytes(1)[0]!}.0/24`;
  const base = subnet.replace(/\.0\/24$/, '');
  const { stdout } = await promisify(execFile)('python3', [join(pyDir, 'networks.py'), suffix, subnet], { env: d.env, timeout: 240_000 });
  const r = JSON.parse(stdout);
  assert.deepEqual(r.get, {
    id: true,
    name: `pyn-${suffix}`,
    ipam: { Driver: 'default', Options: null, Config: [{ Subnet: subnet, IPRange: `${base}.32/27`, Gateway: `${base}.1` }] },
    labels: { 'com.docker.compose.project': `p${suffix}`, 'com.docker.compose.network': 'default' },
    driver: 'bridge',
    scope: 'local',
  });
  assert.deepEqual(r.list_names, [`pyn-${suffix}`, `pyo-${suffix}`]);
  assert.deepEqual(r.list_label, [`pyn-${suffix}`]);
  assert.deepEqual(r.dup, [409, `network with name pyn-${suffix} already exists`]);
  assert.deepEqual(r.overlap, [403, 'Pool overlaps with other one on this address space']);
  assert.deepEqual(r.missing, [404, `network nosuch-${suffix} not found`]);
  assert.equal(r.ep.IPAddress, `${base}.5`);
  assert.equal(r.ep.IPPrefixLen, 24);
  assert.equal(r.ep.Gateway, `${base}.1`);
  assert.deepEqual(r.ep.IPAMConfig, { IPv4Address: `${base}.5` });
  // The SDK's own API version decides whether Aliases carry the short id (before 1.45).
  const short = Number(String(r.api).split('.')[1]) < 45 ? [r.ep.short] : [];
  assert.deepEqual(r.ep.Aliases, ['svc', ...short]);
  assert.equal(r.ep.mac, '02:42:' + [...base.split('.'), '5'].map((o: string) => Number(o).toString(16).padStart(2, '0')).join(':'));
  assert.equal(r.members.length, 1);
  assert.deepEqual(r['aliases_1.44'], ['svc', r.ep.short]);
  assert.deepEqual(r['aliases_1.45'], ['svc']);
  assert.deepEqual(r['dnsnames_1.45'], [`pyc-${suffix}`, 'svc', r.ep.short]);
  assert.deepEqual(r.connected, [`pyn-${suffix}`, `pyo-${suffix}`]);
  assert.deepEqual(r.second_aliases, ['second', ...short]);
  assert.equal(r.second_ip_set, true);
  assert.equal(r.eth1, 0, 'connect wires eth1 in the running container');
  assert.equal(r.connect_again[0], 403);
  assert.match(r.connect_again[1], /already exists in network/);
  assert.deepEqual(r.after_disconnect, [`pyn-${suffix}`]);
  assert.equal(r.rm_busy[0], 403);
  assert.match(r.rm_busy[1], /has active endpoints/);
  assert.deepEqual(r.prune, [`pyn-${suffix}`]);
  assert.deepEqual(r.left, []);
});
