// Several machines on one: each node is its own network namespace with its
// own address on a test bridge, its own data dir (engine root) and its own
// `tug agent` process (started inside it with nsenter), so tests see what
// separate machines would: routes, VXLAN packets on a real link, a node that
// disappears when its link goes down. The `tug server` (no node of its own)
// listens on the host's address on that bridge.
//
// Everything is named and numbered at random (bridge, namespaces, subnet,
// cluster and service ranges), so several such clusters run side by side, and
// stop() takes away exactly what start made, in reverse: workloads (so no
// container outlives its agent), agent and server processes (by PID), the
// namespaces, veths, bridge, the host's FORWARD accept and the data dirs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes, randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTool, type RunResult } from '../../src/util/exec-file.js';
import { until as untilShared } from './until.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const tugBin = join(repoRoot, 'bin', 'tug');
const hex = (n: number): string => randomBytes(n).toString('hex');

export interface TestNode {
  name: string;
  netns: string;
  /** The node's address on the test bridge (its InternalIP). */
  ip: string;
  /** The host end of the node's veth (down = the machine's cable pulled). */
  hostVeth: string;
  dataDir: string;
  output(): string;
}

export interface MultiNodeOptions {
  nodes?: number;
  backend?: 'vxlan' | 'host-gw';
}

export interface MultiNodeCluster {
  dataDir: string;
  url: string;
  bridge: string;
  hostIp: string;
  subnet: string;
  clusterCidr: string;
  serviceCidr: string;
  nodes: TestNode[];
  kubectl(args: string[], opts?: { input?: string; allowFailure?: boolean }): Promise<RunResult>;
  /** The environment kubectl runs with (KUBECONFIG of the server's admin), for kubectl processes a test spawns itself. */
  kubectlEnv: NodeJS.ProcessEnv;
  /** A command in a node's network namespace (what a shell on that machine would run). */
  inNode(node: TestNode, cmd: string[], opts?: { allowFailure?: boolean; input?: string }): Promise<RunResult>;
  /** Polls fn every 250 ms until truthy (bounded by count). */
  until<T>(what: string, fn: () => Promise<T | undefined | false>, tries?: number): Promise<T>;
  setLink(node: TestNode, up: boolean): Promise<void>;
  /** Stops a node's agent (SIGTERM: its pods keep running, as over a kubelet restart) and starts it again on the same data dir. */
  restartAgent(node: TestNode): Promise<void>;
  serverOutput(): string;
  stop(): Promise<void>;
}

interface Started {
  child: ChildProcess;
  out: () => string;
  exited: Promise<void>;
}

function startProcess(cmd: string, args: string[]): Started {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, out: () => out, exited };
}

async function stopProcess(p: Started): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), 45_000);
  await p.exited;
  clearTimeout(t);
}

async function waitFor(p: Started, pattern: RegExp, what: string, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (pattern.test(p.out())) return;
    if (p.child.exitCode !== null) throw new Error(`${what} exited with ${p.child.exitCode}: ${p.out()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not become ready: ${p.out()}`);
}

/** A /24 on 10.200-249.x whose range no route of this host touches. */
async function freeSubnet(): Promise<{ prefix: string }> {
  const routes = (await runTool('ip', ['-4', 'route', 'show', 'table', 'all'])).stdout;
  for (let i = 0; i < 50; i++) {
    const prefix = `10.${randomInt(200, 250)}.${randomInt(0, 256)}`;
    if (!routes.includes(`${prefix}.`)) return { prefix };
  }
  throw new Error('no free test subnet');
}

export async function startMultiNodeCluster(o: MultiNodeOptions = {}): Promise<MultiNodeCluster> {
  const count = o.nodes ?? 3;
  const tag = hex(3);
  const bridge = `tmn${tag}`;
  const { prefix } = await freeSubnet();
  const hostIp = `${prefix}.1`;
  const subnet = `${prefix}.0/24`;
  // Cluster and service ranges only ever live inside the node namespaces; random anyway.
  const a = randomInt(100, 160);
  const clusterCidr = `10.${a}.0.0/16`;
  const serviceCidr = `10.${a + 100}.${randomInt(0, 255)}.0/24`;
  const dataDir = await mkdtemp(join(tmpdir(), 'tug-multinode-'));
  const undo: Array<() => Promise<unknown>> = [async () => rm(dataDir, { recursive: true, force: true })];
  const forwardRule = ['FORWARD', '-i', bridge, '-o', bridge, '-m', 'comment', '--comment', `tug multinode test ${tag}`, '-j', 'ACCEPT'];
  const nodes: TestNode[] = [];
  const agents = new Map<string, Started>();
  const agentArgs = new Map<string, string[]>();
  let server: Started | undefined;
  const kubectlEnv = { ...process.env, KUBECONFIG: join(dataDir, 'kubeconfig'), KUBECACHEDIR: join(dataDir, 'kubectl-cache') };
  const kubectl = (args: string[], opts: { input?: string; allowFailure?: boolean } = {}) => runTool('kubectl', args, { env: kubectlEnv, input: opts.input, allowFailure: opts.allowFailure });
  const until = <T>(what: string, fn: () => Promise<T | undefined | false>, tries = 480): Promise<T> =>
    untilShared(what, fn, { tries, everyMs: 250, context: () => `server: ${server?.out().slice(-1500)}\n${nodes.map((n) => `${n.name}: ${n.output().slice(-1500)}`).join('\n')}` });

  const stop = async (): Promise<void> => {
    // Links up again, so every agent can reach the server and tear its pods down.
    for (const n of nodes) await runTool('ip', ['link', 'set', n.hostVeth, 'up'], { allowFailure: true });
    if (server && server.child.exitCode === null) {
      await kubectl(['delete', 'deployments,replicasets,pods,services', '--all', '--all-namespaces', '--wait=false', '--grace-period=1'], { allowFailure: true });
      for (let i = 0; i < 240; i++) {
        const left = await kubectl(['get', 'pods', '--all-namespaces', '-o', 'name'], { allowFailure: true });
        if (left.code === 0 && !left.stdout.trim()) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      // Pods gone from the API is not containers gone from the nodes: pods of a node that was
      // unreachable are force-deleted while its agent still runs them; it removes them once it hears.
      for (let i = 0; i < 240; i++) {
        const running = await Promise.all(nodes.map((n) => runTool('docker', ['-H', `unix://${join(n.dataDir, 'engine.sock')}`, 'ps', '-aq'], { allowFailure: true })));
        if (running.every((r) => r.code !== 0 || !r.stdout.trim())) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    await Promise.all([...agents.values()].map(stopProcess));
    if (server) await stopProcess(server);
    for (const u of undo.reverse()) await u().catch(() => undefined);
  };

  try {
    await runTool('ip', ['link', 'add', bridge, 'type', 'bridge']);
    undo.push(() => runTool('ip', ['link', 'del', bridge], { allowFailure: true }));
    await runTool('ip', ['addr', 'add', `${hostIp}/24`, 'dev', bridge]);
    await runTool('ip', ['link', 'set', bridge, 'up']);
    // Bridged traffic crosses the host's FORWARD chain when br_netfilter is loaded: let this bridge's through.
    await runTool('iptables', ['-w', '-I', ...forwardRule.slice(0, 1), '1', ...forwardRule.slice(1)]);
    undo.push(() => runTool('iptables', ['-w', '-D', ...forwardRule], { allowFailure: true }));
    for (let i = 0; i < count; i++) {
      const netns = `tmn-${tag}-${i}`;
      const hostVeth = `${bridge}h${i}`;
      const ip = `${prefix}.${10 + i}`;
      await runTool('ip', ['netns', 'add', netns]);
      undo.push(() => runTool('ip', ['netns', 'del', netns], { allowFailure: true }));
      await runTool('ip', ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', `${bridge}n${i}`]);
      undo.push(() => runTool('ip', ['link', 'del', hostVeth], { allowFailure: true }));
      await runTool('ip', ['link', 'set', `${bridge}n${i}`, 'netns', netns]);
      await runTool('ip', ['link', 'set', hostVeth, 'master', bridge, 'up']);
      const sh = (args: string[]) => runTool('ip', ['netns', 'exec', netns, ...args]);
      await sh(['ip', 'link', 'set', 'lo', 'up']);
      await sh(['ip', 'link', 'set', `${bridge}n${i}`, 'name', 'eth0']);
      await sh(['ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      await sh(['ip', 'link', 'set', 'eth0', 'up']);
      const dir = join(dataDir, `node-${i}`);
      nodes.push({ name: `node-${tag}-${i}`, netns, ip, hostVeth, dataDir: dir, output: () => agents.get(netns)?.out() ?? '' });
    }
    server = startProcess(process.execPath, [tugBin, 'server', '--data-dir', join(dataDir, 'server'), '--port', '0', '--bind', hostIp, '--no-agent', '--ui-addr', '127.0.0.1:0', '--cluster-cidr', clusterCidr, '--service-cidr', serviceCidr, '--network-backend', o.backend ?? 'vxlan']);
    await waitFor(server, /join a node with/, 'tug server');
    const url = server.out().match(/API listening on (https:\/\/\S+)/)![1]!;
    const words = (await runTool('cat', [join(dataDir, 'server', 'join-command')])).stdout.trim().split(/\s+/);
    const flag = (f: string): string => words[words.indexOf(f) + 1]!;
    kubectlEnv.KUBECONFIG = join(dataDir, 'server', 'kubeconfig');
    for (const n of nodes) {
      // nsenter, not `ip netns exec`: that one also remounts /sys for the namespace, which hides the cgroup mounts runc needs.
      const args = [`--net=/var/run/netns/${n.netns}`, process.execPath, tugBin, 'agent', '--server', url, '--token', flag('--token'), '--discovery-token-ca-cert-hash', flag('--discovery-token-ca-cert-hash'), '--data-dir', n.dataDir, '--node-name', n.name, '--node-bridge', `tmnp${tag}`, '--service-cidr', serviceCidr];
      agentArgs.set(n.netns, args);
      agents.set(n.netns, startProcess('nsenter', args));
    }
    await Promise.all(nodes.map((n) => waitFor(agents.get(n.netns)!, /registered/, `agent ${n.name}`)));
    return {
      dataDir,
      url,
      bridge,
      hostIp,
      subnet,
      clusterCidr,
      serviceCidr,
      nodes,
      kubectl,
      kubectlEnv,
      inNode: (n, cmd, opts = {}) => runTool('ip', ['netns', 'exec', n.netns, ...cmd], { allowFailure: opts.allowFailure, input: opts.input }),
      until,
      async setLink(n, up) {
        await runTool('ip', ['link', 'set', n.hostVeth, up ? 'up' : 'down']);
      },
      async restartAgent(n) {
        await stopProcess(agents.get(n.netns)!);
        const p = startProcess('nsenter', agentArgs.get(n.netns)!);
        agents.set(n.netns, p);
        await waitFor(p, /registered/, `agent ${n.name} (restarted)`);
      },
      serverOutput: () => server?.out() ?? '',
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** What a multinode cluster could leave on the host: its bridge, namespaces, veths, the FORWARD rule. */
export async function hostLeftovers(c: Pick<MultiNodeCluster, 'bridge' | 'nodes'>): Promise<string[]> {
  const found: string[] = [];
  const links = (await runTool('ip', ['-o', 'link', 'show'])).stdout;
  if (links.includes(`${c.bridge}:`) || links.includes(`${c.bridge}@`)) found.push(`bridge ${c.bridge}`);
  for (const n of c.nodes) if (links.includes(`${n.hostVeth}@`) || links.includes(`${n.hostVeth}:`)) found.push(`veth ${n.hostVeth}`);
  const ns = (await runTool('ip', ['netns', 'list'])).stdout;
  for (const n of c.nodes) if (ns.includes(n.netns)) found.push(`netns ${n.netns}`);
  if ((await runTool('iptables-save', [])).stdout.includes(c.bridge)) found.push(`iptables rule for ${c.bridge}`);
  return found;
}
