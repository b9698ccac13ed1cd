// Pods without a sandbox container: a `tug agent`'s pods have only their app
// containers in runc, their network, IPC and UTS namespaces are files pinned
// on the engine's runtime state dir and shared by every container of the pod;
// container restarts and an agent kill -9 keep the pod's IP and its shared
// localhost; hostNetwork and shareProcessNamespace pods get the node's network
// and one PID namespace; a deleted pod leaves no pin (mount or file) behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { stat, readlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { runTool } from '../../src/util/exec-file.js';
import { runtimeStateDir } from '../../src/engine/run-dir.js';
import { startAgentCluster, leftovers, suffix, podSandboxesOf, pinMounts, type AgentCluster, type AgentProc } from './agent-cluster.js';

let c: AgentCluster | undefined;
let agent: AgentProc;
let nodeName: string;

before(async () => {
  // The agent is down for a while in the kill -9 test: the node must not turn unreachable
  // (and its pods be evicted) meanwhile on a slow machine (as agent-restart.test.ts).
  c = await startAgentCluster({ serverArgs: ['--default-unreachable-toleration-seconds', '300', '--node-monitor-grace-period', '300s'] });
  nodeName = `pinned-${suffix()}`;
  agent = await c.startAgent(nodeName);
});

after(async () => {
  await c?.stop();
});

interface EngineContainer {
  Id: string;
  Labels: Record<string, string>;
}

function engineContainers(dataDir: string): Promise<EngineContainer[]> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(dataDir, 'engine.sock'), path: '/containers/json?all=1', method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`engine answered ${res.statusCode}: ${body}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

const kubectl = (args: string[], input?: string) => c!.kubectl(args, { input });
const getPod = async (name: string): Promise<any> => JSON.parse((await kubectl(['get', 'pod', name, '-o', 'json'])).stdout);
const exec = async (pod: string, container: string, script: string): Promise<string> => (await kubectl(['exec', pod, '-c', container, '--', 'sh', '-c', script])).stdout;

function podJson(name: string, spec: object): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName, terminationGracePeriodSeconds: 1, ...spec } });
}

async function running(name: string, restarts = 0): Promise<any> {
  return c!.until(`${name} Running`, async () => {
    const p = await getPod(name);
    const all = p.status?.containerStatuses ?? [];
    return p.status?.phase === 'Running' && all.length && all.every((s: any) => s.ready && s.state.running) && all.reduce((n: number, s: any) => n + s.restartCount, 0) >= restarts ? p : undefined;
  });
}

/** The nsfs inode a pin file carries, as readlink /proc/PID/ns/X prints it. */
async function pinInode(path: string): Promise<string> {
  return String((await stat(path)).ino);
}

const duo = `duo-${suffix()}`;
const duoSpec = {
  containers: [
    { name: 'web', image: 'busybox', command: ['sh', '-c', 'mkdir -p /www && echo from-web > /www/index.html && exec httpd -f -p 8080 -h /www'] },
    { name: 'client', image: 'busybox', command: ['sleep', '3600'] },
  ],
};
const localhost = (pod: string) => exec(pod, 'client', 'wget -qO- http://127.0.0.1:8080/index.html');

test('a pod has no sandbox container: runc lists only its app containers, its namespaces are pinned files its containers share', async () => {
  await kubectl(['apply', '-f', '-'], podJson(duo, duoSpec));
  const p = await running(duo);
  const mine = (await engineContainers(agent.dataDir)).filter((x) => x.Labels['io.kubernetes.pod.uid'] === p.metadata.uid);
  assert.deepEqual(mine.map((x) => x.Labels['io.kubernetes.container.name']).sort(), ['client', 'web']);
  const runcRoot = join(await runtimeStateDir(join(agent.dataDir, 'engine')), 'runc');
  const listed = (await runTool('runc', ['--root', runcRoot, 'list', '-q'])).stdout.trim().split('\n').filter(Boolean).sort();
  assert.deepEqual(listed, mine.map((x) => x.Id).sort(), 'runc knows the app containers and nothing else');

  const [sandbox, ...more] = await podSandboxesOf(agent.dataDir, p.metadata.uid);
  assert.equal(more.length, 0);
  assert.equal(sandbox!.state, 'ready');
  assert.equal(sandbox!.ip, p.status.podIP);
  const pins = await pinMounts(sandbox!.dir);
  assert.equal(pins.length, 3, pins.join('\n'));
  assert.ok(pins.every((l) => / - nsfs /.test(l)), pins.join('\n'));
  // Both containers are in the pinned namespaces (the inodes match), with the pod's hostname.
  for (const container of ['web', 'client']) {
    const [net, ipc, uts, host] = (await exec(duo, container, 'for n in net ipc uts; do readlink /proc/self/ns/$n; done; hostname')).trim().split('\n');
    assert.equal(net, `net:[${await pinInode(sandbox!.netnsPath!)}]`);
    assert.equal(ipc, `ipc:[${await pinInode(sandbox!.ipcPath!)}]`);
    assert.equal(uts, `uts:[${await pinInode(sandbox!.utsPath!)}]`);
    assert.equal(host, duo);
  }
  assert.equal(await localhost(duo), 'from-web\n', 'the containers share localhost');
  const hosts = await exec(duo, 'client', 'cat /etc/hosts');
  assert.match(hosts, new RegExp(`^${p.status.podIP.replace(/\./g, '\\.')}\\s+${duo}$`, 'm'));
  assert.match(await exec(duo, 'client', 'cat /etc/resolv.conf'), /^nameserver /m);
});

test('a restarted container comes back into the same namespaces: same pod IP, localhost shared again', async () => {
  const before = await getPod(duo);
  const web = (await engineContainers(agent.dataDir)).find((x) => x.Labels['io.kubernetes.pod.uid'] === before.metadata.uid && x.Labels['io.kubernetes.container.name'] === 'web')!;
  await runTool('docker', ['-H', `unix://${join(agent.dataDir, 'engine.sock')}`, 'kill', web.Id]);
  const p = await running(duo, 1);
  assert.equal(p.status.podIP, before.status.podIP);
  assert.equal(p.status.containerStatuses.find((s: any) => s.name === 'web').restartCount, 1);
  assert.equal(await c!.until('web answers on localhost again', async () => (await c!.kubectl(['exec', duo, '-c', 'client', '--', 'wget', '-qO-', 'http://127.0.0.1:8080/index.html'], { allowFailure: true })).stdout || undefined), 'from-web\n');
});

test('after a kill -9 of the agent and a restart, the pod is adopted: same containers, same IP, same pinned namespaces, localhost shared', async () => {
  const before = await getPod(duo);
  const [sandbox] = await podSandboxesOf(agent.dataDir, before.metadata.uid);
  agent.proc.child.kill('SIGKILL');
  await agent.proc.stop();
  // The pins outlive the agent: they are mounts, not processes.
  assert.equal((await pinMounts(sandbox!.dir)).length, 3);
  agent = await c!.startAgent(nodeName, { dataDir: agent.dataDir, net: agent.net });
  const p = await running(duo);
  assert.equal(p.status.podIP, before.status.podIP);
  assert.deepEqual(p.status.containerStatuses.map((s: any) => [s.containerID, s.restartCount]), before.status.containerStatuses.map((s: any) => [s.containerID, s.restartCount]));
  assert.deepEqual((await podSandboxesOf(agent.dataDir, p.metadata.uid)).map((s) => s.id), [sandbox!.id]);
  assert.equal(await localhost(duo), 'from-web\n');
  const net = (await exec(duo, 'web', 'readlink /proc/self/ns/net')).trim();
  assert.equal(net, `net:[${await pinInode(sandbox!.netnsPath!)}]`);
});

test('shareProcessNamespace: the containers see each other under one sleeping PID 1; hostNetwork: the node\'s network, address and hostname', async () => {
  const shared = `shared-${suffix()}`;
  await kubectl(['apply', '-f', '-'], podJson(shared, { shareProcessNamespace: true, containers: [{ name: 'a', image: 'busybox', command: ['sleep', '3601'] }, { name: 'b', image: 'busybox', command: ['sleep', '3602'] }] }));
  const s = await running(shared);
  const ps = await exec(shared, 'a', 'ps -o pid,args');
  assert.match(ps, /sleep 3602/, ps);
  assert.match(await exec(shared, 'b', 'tr "\\0" " " < /proc/1/cmdline'), /^sleep 2147483647/);
  const [sb] = await podSandboxesOf(agent.dataDir, s.metadata.uid);
  const holder = sb!.pidHolder!.pid;
  assert.ok(await stat(`/proc/${holder}`).then(() => true, () => false));

  const hostnet = `hostnet-${suffix()}`;
  await kubectl(['apply', '-f', '-'], podJson(hostnet, { hostNetwork: true, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] }));
  const h = await running(hostnet);
  assert.equal(h.status.podIP, h.status.hostIP);
  assert.equal((await exec(hostnet, 'c', 'readlink /proc/self/ns/net')).trim(), await readlink('/proc/self/ns/net'));
  assert.equal((await exec(hostnet, 'c', 'hostname')).trim(), hostname());
  const [hb] = await podSandboxesOf(agent.dataDir, h.metadata.uid);
  assert.equal(hb!.netnsPath, undefined, 'nothing pinned for the network');

  await kubectl(['delete', 'pod', shared, hostnet, '--wait=true']);
  assert.equal(await stat(`/proc/${holder}`).then(() => 'alive', () => 'gone'), 'gone', 'the PID 1 holder ends with its pod');
  assert.deepEqual(await podSandboxesOf(agent.dataDir, s.metadata.uid), []);
  assert.deepEqual(await podSandboxesOf(agent.dataDir, h.metadata.uid), []);
});

test('a deleted pod leaves no pinned namespace: no mount, no file, and the node is clean once the agent stops', async () => {
  const p = await getPod(duo);
  const [sandbox] = await podSandboxesOf(agent.dataDir, p.metadata.uid);
  await kubectl(['delete', 'pod', duo, '--wait=true']);
  await c!.until('the pod\'s containers gone', async () => (await engineContainers(agent.dataDir)).length === 0);
  assert.deepEqual(await podSandboxesOf(agent.dataDir, p.metadata.uid), []);
  assert.deepEqual(await pinMounts(sandbox!.dir), []);
  assert.equal(await stat(sandbox!.dir).then(() => 'there', () => 'gone'), 'gone');
  await agent.proc.stop();
  assert.deepEqual(await leftovers(agent.dataDir, agent.net), []);
});
