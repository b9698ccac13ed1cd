// A `tug agent` that was down (SIGTERM or kill -9) while pods bound to it were
// force-deleted, evicted (a graceful delete nobody could finish) or rebound to
// another node tears down everything of those pods
// when it starts again (containers, netns, mounts, cgroups, iptables rules),
// and adopts the pods it should still run without restarting them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readFile, access } from 'node:fs/promises';
import { runTool } from '../../src/util/exec-file.js';
import { startAgentCluster, leftovers, suffix, podSandboxesOf, pinMounts, type AgentCluster } from './agent-cluster.js';

let c: AgentCluster | undefined;
after(async () => {
  await c?.stop();
});

interface EngineContainer {
  Id: string;
  Labels: Record<string, string>;
}

/** The containers of the agent's engine, read through its Docker API socket. */
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

const exists = (p: string) => access(p).then(() => true, () => false);

/** What a pod with these container IDs and this IP could leave on the host. */
async function podTraces(dataDir: string, ids: string[], podIP: string): Promise<string[]> {
  const found: string[] = [];
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n');
  const cgroupParent = `/sys/fs/cgroup/tug-${createHash('sha256').update(join(dataDir, 'engine')).digest('hex').slice(0, 10)}`;
  for (const id of ids) {
    found.push(...mounts.filter((m) => m.includes(id)).map((m) => `mount: ${m}`));
    if (await exists(join(cgroupParent, id))) found.push(`cgroup ${cgroupParent}/${id}`);
    if (await exists(join(dataDir, 'engine', 'runtime', 'runc', id))) found.push(`runc container ${id}`);
  }
  const rules = (await runTool('iptables-save', [])).stdout.split('\n').filter((l) => new RegExp(`\\b${podIP.replace(/\./g, '\\.')}\\b`).test(l));
  found.push(...rules.map((r) => `iptables: ${r}`));
  return found;
}

const podJson = (name: string, nodeName: string) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } });

for (const how of ['SIGTERM', 'SIGKILL'] as const) {
  test(`an agent stopped with ${how} cleans up pods deleted, evicted or rebound meanwhile and adopts the rest`, async () => {
    // The agent stays down while the test deletes, rebinds and evicts: longer than tug's
    // default grace period and toleration of a dead node, so on a slow machine its node
    // would turn unreachable and the pod GC would force-delete the evicted pod (terminating
    // on an unreachable node) before the test reads it. This test is about the agent's
    // own cleanup, not node loss (test/cluster-nodes/node-loss.test.ts).
    c ??= await startAgentCluster({ serverArgs: ['--default-unreachable-toleration-seconds', '300', '--node-monitor-grace-period', '300s'] });
    const cl = c;
    const nodeName = `restart-${suffix()}`;
    let agent = await cl.startAgent(nodeName);
    const [keep, gone, moved, evicted] = ['keep', 'gone', 'moved', 'evicted'].map((n) => `${n}-${suffix()}`);
    for (const n of [keep, gone, moved, evicted]) await cl.kubectl(['apply', '-f', '-'], { input: podJson(n, nodeName) });
    const running = async (n: string) => {
      const p = JSON.parse((await cl.kubectl(['get', 'pod', n, '-o', 'json'])).stdout);
      return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready ? p : undefined;
    };
    const before = new Map<string, any>();
    for (const n of [keep, gone, moved, evicted]) before.set(n, await cl.until(`${n} Running`, () => running(n)));
    const containersBefore = await engineContainers(agent.dataDir);
    const idsOf = (n: string) => containersBefore.filter((x) => x.Labels['io.kubernetes.pod.name'] === n).map((x) => x.Id);
    assert.equal(idsOf(gone).length, 1, 'the app container of the pod to delete (no sandbox container)');
    const sandboxDirs = new Map<string, string[]>();
    for (const n of [gone, moved, evicted]) sandboxDirs.set(n, (await podSandboxesOf(agent.dataDir, before.get(n).metadata.uid)).map((s) => s.dir));

    // The agent goes away; its pods keep running under their monitors.
    if (how === 'SIGKILL') agent.proc.child.kill('SIGKILL');
    await agent.proc.stop();
    await cl.kubectl(['delete', 'pod', gone, moved, '--force', '--grace-period=0']);
    // "moved" comes back under the same name on the server's node (a rebound pod: new uid).
    await cl.kubectl(['apply', '-f', '-'], { input: podJson(moved, cl.nodeName) });
    // kubectl drain's eviction: a graceful delete that only the (stopped) agent can finish.
    await cl.kubectl(['create', '--raw', `/api/v1/namespaces/default/pods/${evicted}/eviction`, '-f', '-'], { input: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: evicted, namespace: 'default' } }) });
    assert.ok(JSON.parse((await cl.kubectl(['get', 'pod', evicted, '-o', 'json'])).stdout).metadata.deletionTimestamp, 'the evicted pod is terminating');

    agent = await cl.startAgent(nodeName, { dataDir: agent.dataDir, net: agent.net });
    const dir = agent.dataDir;
    await cl.until('deleted and rebound pods gone from the restarted agent', async () => {
      const names = (await engineContainers(dir)).map((x) => x.Labels['io.kubernetes.pod.name']);
      return !names.includes(gone) && !names.includes(moved) && !names.includes(evicted);
    });
    // The agent finished the eviction: the pod is gone from the API too.
    await cl.until('evicted pod deleted', async () => (await cl.kubectl(['get', 'pod', evicted, '--ignore-not-found', '-o', 'name'])).stdout.trim() === '');
    for (const n of [gone, moved, evicted]) {
      assert.deepEqual(await podTraces(dir, idsOf(n), before.get(n).status.podIP), [], `nothing of ${n} left`);
      // Its pinned namespaces: unmounted, and the records and files gone.
      assert.equal(sandboxDirs.get(n)!.length, 1);
      for (const d of sandboxDirs.get(n)!) {
        assert.deepEqual(await pinMounts(d), [], `no pinned namespace of ${n}`);
        assert.equal(await exists(d), false, `no sandbox dir of ${n}`);
      }
    }

    // The pod that stayed was adopted: same containers, no restart.
    const after = await cl.until('kept pod Running after the restart', () => running(keep));
    const was = before.get(keep).status.containerStatuses[0];
    const now = after.status.containerStatuses[0];
    assert.equal(now.containerID, was.containerID);
    assert.equal(now.restartCount, was.restartCount);
    assert.equal(after.status.podIP, before.get(keep).status.podIP);
    assert.deepEqual((await engineContainers(dir)).map((x) => x.Id).sort(), idsOf(keep).sort());
    // The rebound pod runs on the other node.
    const m = await cl.until('rebound pod Running on the server node', () => running(moved));
    assert.equal(m.spec.nodeName, cl.nodeName);

    await cl.kubectl(['delete', 'pod', keep, moved, '--wait=true']);
    await cl.until('no containers left on the agent', async () => (await engineContainers(dir)).length === 0);
    await agent.proc.stop();
    assert.deepEqual(await leftovers(dir, agent.net), []);
  });
}
