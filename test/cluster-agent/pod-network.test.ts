// A pod's network is made by tug itself (network/bridge-network.ts, direct
// wiring), in the same `unshare` that pins the pod's namespaces: no CNI bridge
// or host-local process. The address comes from tug's allocator (the
// attachment record is the lease), is freed when the pod goes and handed to
// the next pod; an agent killed with SIGKILL in the middle of a burst of pod
// set-ups leaves, once it is back and the pods are deleted, no veth, pinned
// namespace, address record or rule.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runTool } from '../../src/util/exec-file.js';
import { leftovers, suffix, podSandboxesOf, type AgentCluster, type AgentProc, startAgentCluster } from './agent-cluster.js';

let c: AgentCluster | undefined;
let agent: AgentProc;
let nodeName: string;

before(async () => {
  // The agent is down for a while in the kill -9 test: its node must not turn unreachable meanwhile.
  c = await startAgentCluster({ serverArgs: ['--default-unreachable-toleration-seconds', '300', '--node-monitor-grace-period', '300s'] });
  nodeName = `podnet-${suffix()}`;
  agent = await c.startAgent(nodeName);
});

after(async () => {
  await c?.stop();
});

const kubectl = (args: string[], input?: string) => c!.kubectl(args, { input });

function podJson(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] },
  });
}

async function runningPod(name: string): Promise<any> {
  return c!.until(`${name} Running`, async () => {
    const p = JSON.parse((await kubectl(['get', 'pod', name, '-o', 'json'])).stdout);
    return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
  });
}

const attachmentsDir = (dataDir: string) => join(dataDir, 'engine', 'network', 'attachments');

interface Attachment {
  containerId: string;
  address?: string;
  hostIf?: string;
  complete: boolean;
}

async function attachments(dataDir: string): Promise<Attachment[]> {
  const dir = attachmentsDir(dataDir);
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json') && !f.startsWith('.'));
  const out: Attachment[] = [];
  for (const f of files) {
    const rec = await readFile(join(dir, f), 'utf8').then((t) => JSON.parse(t) as Attachment, () => undefined);
    if (rec) out.push(rec);
  }
  return out;
}

const linkExists = async (name: string) => (await runTool('ip', ['link', 'show', 'dev', name], { allowFailure: true })).code === 0;

test("a pod's address is tug's lease: on disk while the pod lives, its veth on the node's bridge with hairpin, freed at deletion and given to the next pod", async () => {
  const first = `first-${suffix()}`;
  await kubectl(['apply', '-f', '-'], podJson(first));
  const p = await runningPod(first);
  const [sandbox] = await podSandboxesOf(agent.dataDir, p.metadata.uid);
  assert.ok(sandbox, 'the pod has a sandbox record');
  const rec = (await attachments(agent.dataDir)).find((a) => a.containerId === sandbox.id);
  assert.ok(rec?.hostIf, 'the attachment was made by direct wiring (it names its host veth)');
  assert.equal(rec.address, p.status.podIP);
  assert.equal(rec.complete, true);
  const host = JSON.parse((await runTool('ip', ['-j', '-d', 'link', 'show', 'dev', rec.hostIf])).stdout)[0];
  assert.equal(host.master, agent.net.bridge);
  assert.equal(host.linkinfo.info_slave_data.hairpin, true);
  // Inside the pod: eth0 with the pod IP and the default route via the bridge's address.
  const inPod = (await kubectl(['exec', first, '--', 'sh', '-c', 'ip addr show dev eth0; ip route'])).stdout;
  assert.match(inPod, new RegExp(`inet ${p.status.podIP.replace(/\./g, '\\.')}/`));
  assert.match(inPod, /default via \S+ dev eth0/);

  await kubectl(['delete', 'pod', first, '--wait=true']);
  await c!.until('the lease and the veth released', async () => !(await attachments(agent.dataDir)).some((a) => a.containerId === sandbox.id) && !(await linkExists(rec.hostIf!)));

  // The allocator hands out the lowest free address: the one just freed.
  const second = `second-${suffix()}`;
  await kubectl(['apply', '-f', '-'], podJson(second));
  const q = await runningPod(second);
  assert.equal(q.status.podIP, p.status.podIP);
  await kubectl(['delete', 'pod', second, '--wait=true']);
});

test('an agent killed (SIGKILL) while pods are being set up leaves no veth, pin, lease or rule once it is back and the pods are gone', async (t) => {
  const names = Array.from({ length: 8 }, (_, i) => `burst${i}-${suffix()}`);
  await kubectl(['apply', '-f', '-'], names.map(podJson).join('\n'));
  // Kill as soon as a lease is on disk whose set-up has not finished (recorded, the
  // link being made); failing that within the bound, once every pod has a lease.
  let seen: Attachment[] = [];
  for (let i = 0; i < 6000; i++) {
    seen = await attachments(agent.dataDir);
    if (seen.some((a) => !a.complete) || seen.length === names.length) break;
    await sleep(2);
  }
  assert.ok(seen.length > 0, 'a pod set-up started');
  agent.proc.child.kill('SIGKILL');
  await agent.proc.stop();
  // What the dead agent left: every lease on disk, with the host veths it names.
  const leftLeases = await attachments(agent.dataDir);
  const hostIfs = leftLeases.map((a) => a.hostIf).filter((x): x is string => Boolean(x));
  assert.ok(leftLeases.length > 0);
  t.diagnostic(`at the kill: ${seen.filter((a) => !a.complete).length} of ${seen.length} leases mid-setup; left on disk: ${leftLeases.length}, ${leftLeases.filter((a) => !a.complete).length} of them mid-setup`);

  await kubectl(['delete', 'pod', ...names, '--force', '--grace-period=0']);
  agent = await c!.startAgent(nodeName, { dataDir: agent.dataDir, net: agent.net });
  const dir = agent.dataDir;
  await c!.until('every lease released by the restarted agent', async () => (await attachments(dir)).length === 0);
  for (const h of hostIfs) assert.equal(await linkExists(h), false, `veth ${h} gone`);
  const ports = (await runTool('ip', ['-o', 'link', 'show', 'master', agent.net.bridge], { allowFailure: true })).stdout.trim();
  assert.equal(ports, '', 'no veth on the bridge');
  await agent.proc.stop();
  assert.deepEqual(await leftovers(dir, agent.net), []);
  agent = await c!.startAgent(nodeName, { dataDir: dir, net: agent.net });
});
