// A second `tug server` on a machine where a tug node already runs: refused at
// start, naming the other owner and the flag to change, with nothing written
// to its data dir. Two servers with the same defaults clash on the bridge
// first; with their own bridge and pod range, on the NodePort range
// (--service-node-port-range), which the service proxy serves on every address.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conflictOf } from '../../src/node/host-claims.js';
import { parseNodePortRange } from '../../src/apiserver/service-allocator.js';
import { runTool } from '../../src/util/exec-file.js';
import { readJoinCommand, startAgentCluster, tugBin, uniqueNodeNet, type AgentCluster } from '../cluster-agent/agent-cluster.js';

// Far from the default so other tug clusters on this machine do not clash with A.
const range = '41000-41099';
let a: AgentCluster | undefined;

before(async () => {
  a = await startAgentCluster({ serverArgs: ['--service-node-port-range', range] });
});

after(async () => {
  await a?.stop();
});

/** `tug server` on a fresh data dir with these flags, expected to be refused: its exit code, stderr, and what it left in the dir. */
async function secondServer(flags: string[]): Promise<{ code: number; stderr: string; left: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'tug-claims-test-'));
  try {
    const r = await runTool(process.execPath, [tugBin, 'server', '--data-dir', dir, '--port', '0', '--ui-addr', 'off', ...flags], { allowFailure: true, timeoutMs: 60_000 });
    return { code: r.code, stderr: r.stderr, left: await readdir(dir) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('claims: NodePort ranges clash when they overlap, in one network namespace only', () => {
  const other = { pid: 1, command: 'tug server', dataDir: '/a', bridge: 'b1', podCidr: '10.1.0.0/16', netns: 'net:[1]', nodePortRange: [30000, 32767] as [number, number] };
  const mine = { command: 'tug server', dataDir: '/b', bridge: 'b2', podCidr: '10.2.0.0/16', netns: 'net:[1]' };
  assert.match(conflictOf({ ...mine, nodePortRange: [32767, 33000] }, [other]) ?? '', /NodePort range 32767-33000 overlaps 30000-32767 .* --service-node-port-range/);
  assert.equal(conflictOf({ ...mine, nodePortRange: [32768, 33000] }, [other]), undefined);
  assert.equal(conflictOf({ ...mine, nodePortRange: [30000, 32767], netns: 'net:[2]' }, [other]), undefined);
  assert.deepEqual(parseNodePortRange('30000-32767'), [30000, 32767]);
  assert.deepEqual(parseNodePortRange('30000+100'), [30000, 30099]);
  assert.throws(() => parseNodePortRange('32767-30000'), /--service-node-port-range "32767-30000"/);
});

test('a second server with the same settings as the first (two with the defaults) is refused, naming the bridge flag', async () => {
  const r = await secondServer(['--node-bridge', a!.net.bridge, '--pod-cidr', a!.net.cidr, '--service-node-port-range', range]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`the pod bridge ${a!.net.bridge} is already used by another tug node on this machine \\(tug server, pid ${a!.server.child.pid}, data dir ${a!.dataDir}\\): give this one another --node-bridge`));
  assert.doesNotMatch(r.stderr, /EADDRINUSE/);
  assert.deepEqual(r.left, []);
});

test('a second server with its own bridge and pod range but an overlapping NodePort range is refused, naming --service-node-port-range', async () => {
  const net = uniqueNodeNet();
  const r = await secondServer(['--node-bridge', net.bridge, '--pod-cidr', net.cidr, '--service-node-port-range', '41050-41150']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`the NodePort range 41050-41150 overlaps ${range} of another tug node on this machine \\(tug server, pid ${a!.server.child.pid}, data dir ${a!.dataDir}\\).*give this one another --service-node-port-range`));
  assert.deepEqual(r.left, []);
  const bad = await secondServer(['--node-bridge', net.bridge, '--service-node-port-range', '30000']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--service-node-port-range "30000" is not a port range/);
});

test("the first server's NodePorts come from its --service-node-port-range", async () => {
  const name = `np-${Math.random().toString(36).slice(2, 7)}`;
  await a!.kubectl(['create', 'service', 'nodeport', name, '--tcp=80:80']);
  const port = Number((await a!.kubectl(['get', 'svc', name, '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout);
  assert.ok(port >= 41000 && port <= 41099, `nodePort ${port}`);
  const outside = await a!.kubectl(['create', 'service', 'nodeport', `${name}-x`, '--tcp=80:80', '--node-port=30080'], { allowFailure: true });
  assert.notEqual(outside.code, 0);
  assert.match(outside.stderr, /The range of valid ports is 41000-41099/);
  await a!.kubectl(['delete', 'svc', name]);
});

test('claims: nodes of one cluster (same CA hash) share a NodePort range; another cluster\'s overlapping one clashes', () => {
  const other = { pid: 1, command: 'tug server', dataDir: '/x', bridge: 'b0', netns: 'net:[1]', nodePortRange: [30000, 32767] as [number, number], cluster: 'sha256:aa' };
  const mine = { command: 'tug agent', dataDir: '/y', bridge: 'b1', netns: 'net:[1]', nodePortRange: [30000, 32767] as [number, number] };
  assert.equal(conflictOf({ ...mine, cluster: 'sha256:aa' }, [other]), undefined);
  assert.match(conflictOf({ ...mine, cluster: 'sha256:bb' }, [other]) ?? '', /NodePort range 30000-32767 overlaps/);
  assert.match(conflictOf(mine, [other]) ?? '', /NodePort range 30000-32767 overlaps/);
});

test("tug agent claims --service-node-port-range: an agent of this cluster shares the server's, an agent of another cluster overlapping it is refused, naming the flag", async () => {
  // The same cluster: the harness passes the server's range, and the agent registers.
  const own = await a!.startAgent(`claims-own-${Math.random().toString(36).slice(2, 7)}`);
  assert.ok(own.proc.output().includes('registered'));
  // Another cluster (its own server, its own CA) whose agent asks for an overlapping range on this machine.
  const b = await startAgentCluster({ serverArgs: ['--service-node-port-range', '42000-42099'] });
  try {
    const net = uniqueNodeNet();
    const dir = await mkdtemp(join(tmpdir(), 'tug-claims-agent-'));
    try {
      const join_ = await readJoinCommand(b.dataDir);
      const r = await runTool(process.execPath, [tugBin, 'agent', '--server', b.url, '--token', join_.token, '--discovery-token-ca-cert-hash', join_.caCertHash, '--data-dir', dir, '--node-name', `claims-x-${Math.random().toString(36).slice(2, 7)}`, '--node-bridge', net.bridge, '--pod-cidr', net.cidr, '--service-node-port-range', '41090-41200'], { allowFailure: true, timeoutMs: 120_000 });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`the NodePort range 41090-41200 overlaps ${range} of another tug node on this machine \\(tug server, pid ${a!.server.child.pid}.*give this one another --service-node-port-range`));
      const bad = await runTool(process.execPath, [tugBin, 'agent', '--server', b.url, '--token', join_.token, '--discovery-token-ca-cert-hash', join_.caCertHash, '--data-dir', dir, '--service-node-port-range', '9-x'], { allowFailure: true });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--service-node-port-range "9-x" is not a port range/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    await b.stop();
  }
});
