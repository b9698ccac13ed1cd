// Shared by the node lifecycle tests: a "dead machine" (the agent and every
// container of its engine killed with SIGKILL, as pulling the plug would),
// reads of a Deployment's pods and a Service's endpoints through kubectl, and
// what a node's engine still holds.
import { request } from 'node:http';
import { join } from 'node:path';
import { readdir, readFile } from 'node:fs/promises';
import type { AgentCluster, AgentProc } from '../cluster-agent/agent-cluster.js';
import { KubeClient, type KubeObject } from '../../src/kube/client/kube-client.js';

export interface PodView {
  name: string;
  uid: string;
  node: string;
  ip?: string;
  ready: boolean;
  terminating: boolean;
}

export async function podsOf(c: AgentCluster, app: string, ns = 'default'): Promise<PodView[]> {
  const items = JSON.parse((await c.kubectl(['-n', ns, 'get', 'pods', '-l', `app=${app}`, '-o', 'json'])).stdout).items as any[];
  return items.map((p) => ({
    name: p.metadata.name,
    uid: p.metadata.uid,
    node: p.spec.nodeName,
    ip: p.status?.podIP,
    ready: (p.status?.conditions ?? []).some((x: any) => x.type === 'Ready' && x.status === 'True'),
    terminating: Boolean(p.metadata.deletionTimestamp),
  }));
}

/** The ready addresses of a Service's Endpoints. */
export async function endpointIps(c: AgentCluster, svc: string, ns = 'default'): Promise<string[]> {
  const ep = JSON.parse((await c.kubectl(['-n', ns, 'get', 'endpoints', svc, '-o', 'json'])).stdout);
  return (ep.subsets ?? []).flatMap((s: any) => (s.addresses ?? []).map((a: any) => a.ip as string)).sort();
}

export async function nodeJson(c: AgentCluster, name: string): Promise<any> {
  return JSON.parse((await c.kubectl(['get', 'node', name, '-o', 'json'])).stdout);
}

export const readyStatus = (node: any): string | undefined => (node.status?.conditions ?? []).find((x: any) => x.type === 'Ready')?.status;

/** A Deployment of busybox pods that serve nothing but stay Ready, plus a Service over them. */
export function deploymentYaml(name: string, replicas: number, extraPodSpec = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, labels: {test: cluster-nodes}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}, test: cluster-nodes}}
    spec:
      terminationGracePeriodSeconds: 1${extraPodSpec}
      containers: [{name: c, image: busybox, command: [sleep, "3600"], ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, labels: {test: cluster-nodes}}
spec: {selector: {app: ${name}}, ports: [{port: 80}]}
`;
}

/** Pods of a fresh Deployment all on `node`: the other nodes are cordoned while it starts. */
export async function deployOnto(c: AgentCluster, node: string, others: string[], name: string, replicas: number, extraPodSpec = ''): Promise<PodView[]> {
  for (const o of others) await c.kubectl(['cordon', o]);
  try {
    await c.kubectl(['apply', '-f', '-'], { input: deploymentYaml(name, replicas, extraPodSpec) });
    return await c.until(`${name} Ready on ${node}`, async () => {
      const pods = (await podsOf(c, name)).filter((p) => !p.terminating);
      return pods.length === replicas && pods.every((p) => p.ready && p.node === node) ? pods : undefined;
    });
  } finally {
    for (const o of others) await c.kubectl(['uncordon', o]);
  }
}

/** Pulls the plug on an agent's machine: SIGKILL to the agent, then to every container and container monitor of its engine. */
export async function killMachine(agent: AgentProc): Promise<void> {
  const exited = new Promise<void>((r) => (agent.proc.child.exitCode !== null || agent.proc.child.signalCode !== null ? r() : agent.proc.child.once('exit', () => r())));
  agent.proc.child.kill('SIGKILL');
  await exited;
  // Every container monitor (conmon) of the node's engine names the data dir on its command line: these PIDs are the
  // test's own. Each names its container's pidfile (-p): the container's init goes first, then its monitor. Signals
  // only (no runc per container): a dead machine takes no time to die.
  const victims: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!argv.some((a) => a.includes(agent.dataDir))) continue;
    const pidfile = argv[argv.indexOf('-p') + 1];
    const init = pidfile && argv.indexOf('-p') > 0 ? Number((await readFile(pidfile, 'utf8').catch(() => '')).trim()) : 0;
    if (init > 0) victims.push(init);
    victims.push(Number(pid));
  }
  for (const pid of victims) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** Deletes what the tests made in the default namespace and waits for the pods to go (an agent's stop leaves pods running). */
export async function deleteWorkloads(c: AgentCluster): Promise<void> {
  await c.kubectl(['delete', 'deployments,services,pdb,pods', '-l', 'test=cluster-nodes', '--wait=true', '--timeout=120s'], { allowFailure: true });
}

/** The engine containers of a node, through its Docker API socket. */
export function engineContainers(dataDir: string): Promise<{ Id: string; Labels: Record<string, string> }[]> {
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

/** Every version of a node's Lease the API server stores from now on (a watch opened before returning), by resourceVersion. */
export async function watchLeaseVersions(c: AgentCluster, nodeName: string): Promise<{ versions: Map<string, KubeObject>; stop(): Promise<void> }> {
  const client = await KubeClient.fromKubeconfig(join(c.dataDir, 'kubeconfig'));
  const leaseRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };
  const fieldSelector = `metadata.name=${nodeName}`;
  const list = await client.list(leaseRef, { fieldSelector });
  const versions = new Map<string, KubeObject>();
  const abort = new AbortController();
  const watching = (async () => {
    try {
      for await (const ev of client.watch(leaseRef, { fieldSelector, resourceVersion: list.metadata.resourceVersion, signal: abort.signal })) {
        if (ev.type === 'MODIFIED') versions.set(ev.object.metadata.resourceVersion!, ev.object);
      }
    } catch {
      // stopped
    }
  })();
  return {
    versions,
    async stop() {
      abort.abort();
      await watching;
      client.close();
    },
  };
}
