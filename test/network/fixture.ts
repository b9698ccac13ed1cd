// Shared helpers for the network tests: a BridgeNetwork with a unique bridge
// and an unused random subnet, processes started inside a network namespace
// (killed by their own PID), and snapshots of exactly the host state that one
// network could have touched, so tests can compare before/after while other
// engineers' tests change iptables and links at the same time.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BridgeNetwork, type Wiring } from '../../src/network/bridge-network.js';
import { subnetOverlapsRoute } from '../../src/network/routes.js';
import { runTool } from '../../src/util/exec-file.js';

export function suffix(): string {
  return randomBytes(4).toString('hex').slice(0, 7);
}

/** 10.200-255.x.0/24 (or /prefixLen) that no host route covers yet. */
export async function unusedSubnet(prefixLen = 24): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const b = 200 + (randomBytes(1)[0]! % 56);
    const c = randomBytes(1)[0]!;
    const cidr = `10.${b}.${c}.0/${prefixLen}`;
    if (!(await subnetOverlapsRoute(cidr))) return cidr;
  }
  throw new Error('no unused 10.2xx subnet found');
}

export interface TestNet {
  net: BridgeNetwork;
  root: string;
  /** e.g. '10.231.77.' for a /24, to recognise this network's addresses. */
  subnetPrefix: string;
  cleanup(): Promise<void>;
}

/** wiring: default as a daemon's (TUG_NETWORK_WIRING, else direct). */
export async function newTestNet(prefixLen = 24, root?: string, wiring?: Wiring): Promise<TestNet> {
  const dir = root ?? (await mkdtemp(join(tmpdir(), 'tug-net-')));
  const subnet = await unusedSubnet(prefixLen);
  const net = new BridgeNetwork({ root: dir, bridgeName: `tugt${suffix()}`, subnet, wiring });
  return {
    net,
    root: dir,
    subnetPrefix: subnet.split('.').slice(0, 3).join('.') + '.',
    async cleanup() {
      try {
        await net.destroy();
      } finally {
        if (!root) await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * The iptables lines (filter and nat) that belong to this network: any line
 * naming the bridge/network, an address in its subnet or one of the given
 * containers, plus every line of a CNI per-container chain those lines use.
 */
export async function ourIptables(t: TestNet, containerIds: string[] = []): Promise<string[]> {
  const lines: string[] = [];
  for (const table of ['filter', 'nat']) {
    const { stdout } = await runTool('iptables', ['-w', '-t', table, '-S']);
    for (const l of stdout.split('\n')) if (l) lines.push(`${table} ${l}`);
  }
  const direct = (l: string) =>
    l.includes(t.net.bridgeName) || l.includes(t.subnetPrefix) || containerIds.some((id) => l.includes(`id: \\"${id}\\"`));
  const chains = new Set<string>();
  for (const l of lines.filter(direct)) for (const m of l.matchAll(/CNI-(?:DN-)?[0-9a-f]{16,}/g)) chains.add(m[0]);
  return lines.filter((l) => direct(l) || [...chains].some((c) => l.includes(c))).sort();
}

/** Links enslaved to the bridge (the host ends of container veths). */
export async function bridgePorts(t: TestNet): Promise<string[]> {
  const r = await runTool('ip', ['-o', 'link', 'show', 'master', t.net.bridgeName], { allowFailure: true });
  return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

export async function bridgeExists(name: string): Promise<boolean> {
  return (await runTool('ip', ['link', 'show', 'dev', name], { allowFailure: true })).code === 0;
}

export async function listDir(path: string): Promise<string[]> {
  try {
    return (await readdir(path)).sort();
  } catch {
    return [];
  }
}

/**
 * The leased addresses: files host-local keeps per address under the daemon's
 * own dataDir (cni wiring), and the addresses in the attachment records (tug's
 * allocator: the record is the lease).
 */
export async function leases(t: TestNet): Promise<string[]> {
  const out = new Set((await listDir(join(t.root, 'network', 'ipam', t.net.networkName))).filter((f) => f.startsWith(t.subnetPrefix)));
  const dir = join(t.root, 'network', 'attachments');
  for (const f of await listDir(dir)) {
    const rec = await readFile(join(dir, f), 'utf8').then((x) => JSON.parse(x) as { address?: string }, () => undefined);
    if (rec?.address) out.add(rec.address);
  }
  return [...out].sort();
}

/** Everything a failed or undone attach must not leave behind. */
export async function hostState(t: TestNet, ids: string[]) {
  return {
    iptables: await ourIptables(t, ids),
    bridgePorts: await bridgePorts(t),
    netns: await listDir(join(t.root, 'network', 'netns')),
    records: await listDir(join(t.root, 'network', 'attachments')),
    leases: await leases(t),
  };
}

export interface NsProcess {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a program inside the namespace file; stop() kills that PID only. */
export function startInNetns(netnsPath: string, cmd: string, args: string[]): NsProcess {
  const child = spawn('nsenter', [`--net=${netnsPath}`, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export function runInNetns(netnsPath: string, cmd: string, args: string[]) {
  return runTool('nsenter', [`--net=${netnsPath}`, cmd, ...args], { allowFailure: true, timeoutMs: 20_000 });
}

/** Retries an async probe a bounded number of times (servers need a moment to bind). */
export async function eventually<T>(probe: () => Promise<T | undefined>, tries = 50, pauseMs = 100): Promise<T | undefined> {
  for (let i = 0; i < tries; i++) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  return undefined;
}

/**
 * GET a URL from inside a namespace. Node rather than busybox wget: the static
 * busybox's wget crashes resolving addresses here.
 */
export async function httpGetInNetns(netnsPath: string, url: string): Promise<string | undefined> {
  const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(3000) })
    .then(async (r) => { if (!r.ok) process.exit(1); process.stdout.write(await r.text()); })
    .catch(() => process.exit(1));`;
  const r = await runInNetns(netnsPath, process.execPath, ['-e', script]);
  return r.code === 0 ? r.stdout : undefined;
}

/** GET http://host:port/path from the host with a per-try timeout; undefined on failure. */
export async function httpGet(host: string, port: number, path = '/'): Promise<string | undefined> {
  const ctl = AbortSignal.timeout(3000);
  const res = await fetch(`http://${host}:${port}${path}`, { signal: ctl });
  return res.ok ? await res.text() : undefined;
}
