// A real `tug server` with its embedded node agent for the agent tests: own
// temp data dir, free loopback port, a unique pod bridge and pod range, and
// kubectl bound to its kubeconfig. Also starts extra `tug agent` processes.
// stop() first removes every pod while the agents still run, since an agent
// stopped with pods on its node keeps them (as a kubelet restart does): their
// containers, mounts, the node's bridge and its iptables chains would outlive
// the test, and its data dir could not be removed. Then it stops only the PIDs
// it started and removes the data dirs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, readFile, readdir } from 'node:fs/promises';
import { randomBytes, randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withOwnNodePorts } from '../helpers/node-port-range.js';
import { runTool, type RunResult } from '../../src/util/exec-file.js';
import { runtimeStateDir } from '../../src/engine/run-dir.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const tugBin = join(repoRoot, 'bin', 'tug');

export const suffix = (): string => randomBytes(3).toString('hex');

export interface NodeNet {
  bridge: string;
  cidr: string;
}

/** A bridge name (max 15 chars) and a /24 pod range unlikely to clash with other tests. */
export function uniqueNodeNet(): NodeNet {
  return { bridge: `tka${suffix()}`, cidr: `10.${randomInt(160, 250)}.${randomInt(0, 256)}.0/24` };
}

export interface Proc {
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

function startProc(args: string[], readyPattern: RegExp, env?: NodeJS.ProcessEnv): Promise<Proc> {
  const child = spawn(process.execPath, [tugBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : undefined });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const proc: Proc = {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const sent = Date.now();
      // A tug killed here leaves what its shutdown would have removed (bridge chains, pins): say so in the test output.
      const t = setTimeout(() => {
        console.log(`harness: tug ${args[0]} (pid ${child.pid}) still running 60 s after SIGTERM; SIGKILL. Output tail:\n${out.slice(-2000)}`);
        child.kill('SIGKILL');
      }, 60_000);
      await exited;
      clearTimeout(t);
      if (Date.now() - sent > 10_000) console.log(`harness: tug ${args[0]} (pid ${child.pid}) took ${Date.now() - sent} ms to exit after SIGTERM`);
    },
  };
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      void proc.stop();
      rej(new Error(`tug ${args[0]} did not become ready: ${out}`));
    }, 90_000);
    const check = (): void => {
      if (readyPattern.test(out)) {
        clearTimeout(timer);
        res(proc);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`tug ${args[0]} exited with ${code}: ${out}`));
    });
  });
}

export interface JoinArgs {
  url: string;
  token: string;
  /** sha256:<hex> for --discovery-token-ca-cert-hash. */
  caCertHash: string;
}

/** What `tug server` wrote to DATA_DIR/join-command: `tug agent --server URL --token T --discovery-token-ca-cert-hash H`. */
export async function readJoinCommand(serverDataDir: string): Promise<JoinArgs> {
  const words = (await readFile(join(serverDataDir, 'join-command'), 'utf8')).trim().split(/\s+/);
  const after = (flag: string): string => {
    const i = words.indexOf(flag);
    if (i < 0 || !words[i + 1]) throw new Error(`join-command lacks ${flag}: ${words.join(' ')}`);
    return words[i + 1]!;
  };
  return { url: after('--server'), token: after('--token'), caCertHash: after('--discovery-token-ca-cert-hash') };
}

/** A `tug agent` process against any API server (own or given data dir and network), ready once it has registered. */
export async function startAgentProcess(o: JoinArgs & { nodeName: string; dataDir?: string; net?: NodeNet; serviceCidr?: string; trustFlags?: string[]; env?: NodeJS.ProcessEnv; nodePortFlags?: string[]; args?: string[] }): Promise<AgentProc> {
  const dir = o.dataDir ?? (await mkdtemp(join(tmpdir(), 'tug-agent-test-node-')));
  const n = o.net ?? uniqueNodeNet();
  const svc = o.serviceCidr ? ['--service-cidr', o.serviceCidr] : [];
  // How the agent trusts the server: the pinned CA hash unless the caller says otherwise.
  const joinFlags = ['--server', o.url, '--token', o.token, ...(o.trustFlags ?? ['--discovery-token-ca-cert-hash', o.caCertHash])];
  // The agent claims its NodePort range on this machine: its cluster's (shared with the cluster's other nodes here), or one drawn for it.
  const start = (ports: string[]) => startProc(['agent', ...joinFlags, '--data-dir', dir, '--node-name', o.nodeName, '--node-bridge', n.bridge, '--pod-cidr', n.cidr, ...svc, ...(o.args ?? []), ...ports], /registered/, o.env);
  const proc = o.nodePortFlags ? await start(o.nodePortFlags) : await withOwnNodePorts((r) => start(r.flags));
  return {
    proc,
    dataDir: dir,
    net: n,
    nodeName: o.nodeName,
    async stop() {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface AgentProc {
  proc: Proc;
  nodeName: string;
  dataDir: string;
  net: NodeNet;
  /** Stops the process and removes its data dir. */
  stop(): Promise<void>;
}

export interface AgentCluster {
  dataDir: string;
  url: string;
  /** The server's static admin token (DATA_DIR/tokens.csv), for API calls with a bearer token. */
  token: string;
  /** The bootstrap token of the server's join command, with which startAgent joins nodes. */
  joinToken: string;
  /** The CA pin `tug server` printed, for --discovery-token-ca-cert-hash. */
  caCertHash: string;
  nodeName: string;
  net: NodeNet;
  server: Proc;
  /** The cluster's --service-node-port-range flags, which its agents on this machine share. */
  nodePortFlags: string[];
  kubectl(args: string[], opts?: { input?: string; allowFailure?: boolean }): Promise<RunResult>;
  kubectlEnv: NodeJS.ProcessEnv;
  /** Polls fn until it returns a truthy value (bounded by count, not by a timing threshold on success). */
  until<T>(what: string, fn: () => Promise<T | undefined | false>, tries?: number): Promise<T>;
  /** Starts a `tug agent` process; `reuse` restarts one on the data dir and network of an agent stopped before; `args` are more flags. */
  startAgent(nodeName: string, reuse?: { dataDir: string; net: NodeNet }, args?: string[]): Promise<AgentProc>;
  stop(): Promise<void>;
}

export async function startAgentCluster(opts: { serviceCidr?: string; serverArgs?: string[] } = {}): Promise<AgentCluster> {
  const svc = [...(opts.serviceCidr ? ['--service-cidr', opts.serviceCidr] : []), ...(opts.serverArgs ?? [])];
  const dataDir = await mkdtemp(join(tmpdir(), 'tug-agent-test-'));
  const net = uniqueNodeNet();
  const nodeName = `node-${suffix()}`;
  let server: Proc;
  let nodePortFlags: string[] = [];
  try {
    const ownRange = svc.indexOf('--service-node-port-range');
    server = await withOwnNodePorts((ports) => {
      nodePortFlags = ownRange >= 0 ? svc.slice(ownRange, ownRange + 2) : ports.flags;
      return startProc(['server', '--data-dir', dataDir, '--port', '0', '--ui-addr', '127.0.0.1:0', '--node-name', nodeName, '--node-bridge', net.bridge, '--pod-cidr', net.cidr, ...(ownRange >= 0 ? [] : ports.flags), ...svc], /node agent registered node/);
    });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const url = server.output().match(/API listening on (https:\/\/\S+)/)![1]!;
  const { token: joinToken, caCertHash } = await readJoinCommand(dataDir);
  const token = (await readFile(join(dataDir, 'tokens.csv'), 'utf8')).split('\n').find((l) => l.split(',')[1] === 'admin')!.split(',')[0]!;
  const kubectlEnv = { ...process.env, KUBECONFIG: join(dataDir, 'kubeconfig'), KUBECACHEDIR: join(dataDir, 'kubectl-cache') };
  const extra: AgentProc[] = [];
  const cluster: AgentCluster = {
    dataDir,
    url,
    token,
    joinToken,
    caCertHash,
    nodeName,
    net,
    server,
    nodePortFlags,
    kubectlEnv,
    kubectl: (args, opts = {}) => runTool('kubectl', args, { env: kubectlEnv, input: opts.input, allowFailure: opts.allowFailure }),
    async until(what, fn, tries = 240) {
      for (let i = 0; i < tries; i++) {
        const v = await fn();
        if (v) return v;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`gave up waiting for ${what}`);
    },
    async startAgent(name, reuse, args) {
      const handle = await startAgentProcess({ url, token: joinToken, caCertHash, nodeName: name, dataDir: reuse?.dataDir, net: reuse?.net, serviceCidr: opts.serviceCidr, nodePortFlags, args });
      const dir = handle.dataDir;
      // A restarted agent replaces the handle of its stopped predecessor (same dir).
      const i = extra.findIndex((e) => e.dataDir === dir);
      if (i >= 0) extra.splice(i, 1);
      extra.push(handle);
      return handle;
    },
    async stop() {
      try {
        const live = [nodeName, ...extra.filter((e) => running(e.proc)).map((e) => e.nodeName)];
        if (running(server)) await removePods(cluster, live);
        for (const e of extra) await e.stop();
      } finally {
        await server.stop();
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
  return cluster;
}

const running = (p: Proc): boolean => p.child.exitCode === null && p.child.signalCode === null;

/**
 * Every workload and pod deleted, then waits (bounded) until no pod is left on
 * the nodes whose agents run: each agent has torn its pods down (containers,
 * mounts, addresses) by then, so its stop finds an empty engine and removes
 * the node's bridge and iptables chains too. A pod on a node whose agent is
 * gone (a test killed it) is not waited for: nothing would ever finish it.
 */
async function removePods(c: AgentCluster, liveNodes: string[]): Promise<void> {
  const kinds = 'deployments,replicasets,statefulsets,daemonsets,jobs,cronjobs,replicationcontrollers';
  await c.kubectl(['delete', kinds, '--all', '--all-namespaces', '--wait=false'], { allowFailure: true });
  // A second of grace: what a test left running has nothing to finish (a busybox sleep as PID 1 ignores SIGTERM).
  await c.kubectl(['delete', 'pods', '--all', '--all-namespaces', '--grace-period=1', '--wait=false'], { allowFailure: true });
  for (let i = 0; i < 240; i++) {
    const r = await c.kubectl(['get', 'pods', '--all-namespaces', '-o', 'jsonpath={.items[*].spec.nodeName}'], { allowFailure: true });
    if (r.code !== 0) return;
    if (!r.stdout.split(/\s+/).some((n) => liveNodes.includes(n))) return;
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** What a node's pods could leave behind: its bridge, its range in iptables, mounts under its data dir. */
export async function leftovers(dataDir: string, net: NodeNet): Promise<string[]> {
  const found: string[] = [];
  const link = await runTool('ip', ['link', 'show', net.bridge], { allowFailure: true });
  if (link.code === 0) found.push(`bridge ${net.bridge}`);
  const prefix = net.cidr.split('.').slice(0, 3).join('.') + '.';
  const rules = (await runTool('iptables-save', [])).stdout.split('\n').filter((l) => l.includes(prefix) || l.includes(net.bridge));
  found.push(...rules.map((r) => `iptables: ${r}`));
  // The engine's runtime state (tmpfs) holds the pods' pinned namespaces: neither mounts nor files may stay.
  const stateDir = await runtimeStateDir(join(dataDir, 'engine'));
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(dataDir) || l.includes(stateDir));
  found.push(...mounts.map((m) => `mount: ${m}`));
  const pins = await readdir(join(stateDir, 'pods')).catch(() => []);
  found.push(...pins.map((id) => `pod sandbox ${join(stateDir, 'pods', id)}`));
  const veths = (await runTool('ip', ['-o', 'link', 'show', 'master', net.bridge], { allowFailure: true })).stdout.trim();
  if (veths) found.push(`veths on ${net.bridge}: ${veths}`);
  return found;
}

export interface SandboxOnDisk {
  dir: string;
  id: string;
  state: string;
  ip: string;
  labels: Record<string, string>;
  netnsPath?: string;
  ipcPath?: string;
  utsPath?: string;
  pidHolder?: { pid: number };
}

/** The pod sandboxes (pinned namespaces, engine/pod-sandboxes.ts) a node's engine keeps for a pod uid. */
export async function podSandboxesOf(dataDir: string, uid: string): Promise<SandboxOnDisk[]> {
  const base = join(await runtimeStateDir(join(dataDir, 'engine')), 'pods');
  const out: SandboxOnDisk[] = [];
  for (const id of await readdir(base).catch(() => [])) {
    const rec = await readFile(join(base, id, 'sandbox.json'), 'utf8').then((t) => JSON.parse(t) as SandboxOnDisk, () => undefined);
    if (rec?.labels['io.kubernetes.pod.uid'] === uid) out.push({ ...rec, dir: join(base, id) });
  }
  return out;
}

/** The mount table lines of namespace pins under dir. */
export async function pinMounts(dir: string): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.split(' ')[4]?.startsWith(`${dir}/`));
}
