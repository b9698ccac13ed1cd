// A pod's shared namespaces without a sandbox container (CRI-O's drop_infra_ctr
// shape): the network, IPC and UTS namespaces are made by one `unshare` and
// pinned as files (nsfs bind mounts) under the engine's runtime state dir, the
// network is wired on the default bridge as a container's would be, and the
// pod's containers join the pins by path (NetworkMode/IpcMode/UTSMode 'ns:<path>').
// No runc container, conmon or sleeping process per pod: half the runtime work
// of a pod start. A pod that shares its process namespace gets the one process
// a PID namespace cannot do without: a sleeping PID 1 (`unshare --pid --fork`),
// so no app container has to be PID 1 and a restart of one does not end the others'
// namespace (what the kubelet's pause container gives such pods).
//
// The records live on the runtime state dir (tmpfs, like the pins themselves):
// after an agent restart, clean or kill -9, the pins and records are still there
// and adopted; after a reboot both are gone together.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { invalid, notFound } from '../errdefs.js';
import type { BridgeNetwork } from '../network/bridge-network.js';
import { isNetnsMounted, removeNetnsAll } from '../network/netns.js';
import { runTool } from '../util/exec-file.js';
import { writeJsonAtomic } from '../util/atomic-file.js';

export interface PodSandboxSpec {
  labels: Record<string, string>;
  hostname: string;
  /** 'host': the node's network (and UTS) namespace, no address of its own (hostNetwork). */
  network: 'pod' | 'host';
  /** 'host': the node's IPC namespace (hostIPC). */
  ipc: 'pod' | 'host';
  /** 'pod': one PID namespace for every container (shareProcessNamespace); 'host': hostPID; 'container': one each. */
  pid: 'container' | 'pod' | 'host';
}

export interface PodSandbox extends PodSandboxSpec {
  id: string;
  created: string;
  /** creating: pins being made (a record left so a crash can be undone); ready; stopped: pins and address released. */
  state: 'creating' | 'ready' | 'stopped';
  netnsPath?: string;
  ipcPath?: string;
  utsPath?: string;
  /** The sleeping PID 1 of a shared PID namespace: unshare's pid, its child's, and the namespace's inode (pid reuse check). */
  pidHolder?: { unsharePid: number; pid: number; ns: string };
  ip: string;
  prefixLen: number;
  gateway: string;
  mac: string;
}

const RECORD = 'sandbox.json';

export class PodSandboxes {
  private readonly byId = new Map<string, PodSandbox>();

  private constructor(
    private readonly dir: string,
    private readonly network: BridgeNetwork,
  ) {}

  static async open(stateDir: string, network: BridgeNetwork): Promise<PodSandboxes> {
    const dir = join(stateDir, 'pods');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const s = new PodSandboxes(dir, network);
    for (const id of await readdir(dir)) {
      const rec = await readFile(join(dir, id, RECORD), 'utf8').then((t) => JSON.parse(t) as PodSandbox, () => undefined);
      if (rec?.id === id) s.byId.set(id, rec);
      else await rm(join(dir, id), { recursive: true, force: true }); // a crash before the first record write
    }
    return s;
  }

  all(): PodSandbox[] {
    return [...this.byId.values()];
  }

  get(id: string): PodSandbox | undefined {
    return this.byId.get(id);
  }

  /** Ready, and its shared PID 1 (if it has one) still alive. */
  isLive(s: PodSandbox): boolean {
    if (s.state !== 'ready') return false;
    return !s.pidHolder || holderAlive(s.pidHolder);
  }

  /** Makes the namespaces, wires the network; on failure nothing is left behind. */
  async create(spec: PodSandboxSpec): Promise<PodSandbox> {
    // A pod on the host's namespaces pins nothing: its record alone is its sandbox to report and tear down.
    const id = randomBytes(32).toString('hex');
    const dir = join(this.dir, id);
    const s: PodSandbox = { ...spec, id, created: new Date().toISOString(), state: 'creating', ip: '', prefixLen: 0, gateway: '', mac: '' };
    await mkdir(dir, { mode: 0o700 });
    if (spec.network === 'pod') {
      s.netnsPath = join(dir, 'net');
      s.utsPath = join(dir, 'uts');
    }
    if (spec.ipc === 'pod') s.ipcPath = join(dir, 'ipc');
    this.byId.set(id, s);
    try {
      await this.save(s);
      const pins = [s.netnsPath, s.utsPath, s.ipcPath].filter((p): p is string => Boolean(p));
      for (const p of pins) await writeFile(p, '', { mode: 0o444 });
      // Direct wiring: the address leased (recorded) now, the veth, address,
      // route and lo made by the `ip` that unshare execs in the new namespace.
      const wiring = s.netnsPath && this.network.wiring === 'direct' ? await this.network.prepareAttach(id, s.netnsPath) : undefined;
      if (pins.length) {
        const flags = [s.netnsPath ? `--net=${s.netnsPath}` : '', s.utsPath ? `--uts=${s.utsPath}` : '', s.ipcPath ? `--ipc=${s.ipcPath}` : ''].filter(Boolean);
        // One spawn: the namespaces pinned, and the network (or just the loopback) set up inside.
        if (wiring) await runTool('unshare', [...flags, 'ip', '-batch', '-'], { input: wiring.ipBatch });
        else await runTool('unshare', [...flags, ...(s.netnsPath ? ['ip', 'link', 'set', 'lo', 'up'] : ['true'])]);
      }
      if (spec.pid === 'pod') s.pidHolder = await startPidHolder();
      if (s.netnsPath) {
        const att = wiring ? await wiring.finish() : await (await this.network.beginAttach(id, [], { netnsPath: s.netnsPath })).configured;
        Object.assign(s, { ip: att.ip, prefixLen: att.prefixLen, gateway: att.gateway, mac: att.mac });
      }
      s.state = 'ready';
      await this.save(s);
      return s;
    } catch (err) {
      await this.remove(id).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Releases the network address and the namespaces; the record stays (the pod
   * keeps its IP in its status, as a pod whose sandbox the kubelet stopped).
   * Idempotent.
   */
  async stop(id: string): Promise<void> {
    const s = this.byId.get(id);
    if (!s) throw notFound(`no such pod sandbox: ${id}`);
    if (s.pidHolder) await stopPidHolder(s.pidHolder);
    // The pins first, all by one umount: the namespace goes, and with it the
    // pod's veth; the network's detach then only waits for that and drops the
    // lease (plugins, for an attachment they made, DEL without a namespace).
    await removeNetnsAll([s.netnsPath, s.utsPath, s.ipcPath].filter((p): p is string => Boolean(p)));
    await this.network.detach(id);
    if (s.state === 'stopped') return;
    s.state = 'stopped';
    await this.save(s);
  }

  /** Stops and forgets the sandbox; unknown ids are fine. */
  async remove(id: string): Promise<void> {
    if (!this.byId.has(id)) return;
    await this.stop(id);
    this.byId.delete(id);
    await rm(join(this.dir, id), { recursive: true, force: true });
  }

  /**
   * After an engine restart: sandboxes whose pins are still mounted are
   * adopted (their ids returned, so the network keeps their attachments);
   * ones cut short mid-create are removed, and ones whose namespaces are gone
   * (a reboot, a stray umount) are marked stopped.
   */
  async recover(): Promise<string[]> {
    const live: string[] = [];
    for (const s of this.all()) {
      if (s.state === 'creating') {
        await this.remove(s.id).catch((err) => process.stderr.write(`tug: pod sandbox ${s.id.slice(0, 12)}: ${String(err)}\n`));
        continue;
      }
      const pinned = (await Promise.all([s.netnsPath, s.utsPath, s.ipcPath].filter((p): p is string => Boolean(p)).map(isNetnsMounted))).every(Boolean);
      if (s.state === 'ready' && pinned && (!s.pidHolder || holderAlive(s.pidHolder))) {
        live.push(s.id);
        continue;
      }
      if (s.state === 'ready') {
        // Released below by the network's recovery (not in the live set); the pins here.
        if (s.pidHolder) await stopPidHolder(s.pidHolder);
        await removeNetnsAll([s.netnsPath, s.utsPath, s.ipcPath].filter((p): p is string => Boolean(p))).catch(() => undefined);
        s.state = 'stopped';
        await this.save(s);
      }
    }
    return live;
  }

  private async save(s: PodSandbox): Promise<void> {
    // Runtime state (tmpfs, emptied by a reboot, as the pins it describes): no fsync.
    await writeJsonAtomic(join(this.dir, s.id, RECORD), s, 0o600, { durable: false });
  }
}

/** A namespace join path for the engine's container modes. */
export function nsMode(path: string): string {
  if (!path.startsWith('/')) throw invalid(`namespace path must be absolute: ${path}`);
  return `ns:${path}`;
}

function nsOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

function holderAlive(h: { pid: number; ns: string }): boolean {
  return existsSync(`/proc/${h.pid}`) && nsOf(h.pid) === h.ns;
}

/**
 * `unshare --pid --kill-child sleep`: unshare forks the sleep as PID 1 of a
 * new PID namespace and waits; killing unshare takes the sleep (and with it
 * the namespace) along. Detached, so it outlives an agent restart.
 */
async function startPidHolder(): Promise<{ unsharePid: number; pid: number; ns: string }> {
  const child = spawn('unshare', ['--pid', '--kill-child', 'sleep', '2147483647'], { detached: true, stdio: 'ignore' });
  child.unref();
  const unsharePid = child.pid;
  if (!unsharePid) throw new Error('unshare --pid: no process');
  const own = nsOf(process.pid);
  for (let i = 0; i < 200; i++) {
    const kids = await readFile(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').catch(() => '');
    const pid = Number(kids.trim().split(/\s+/)[0]);
    const ns = pid ? nsOf(pid) : undefined;
    // Until the child has unshared and exec'd, it may still show our namespace.
    if (pid && ns && ns !== own) return { unsharePid, pid, ns };
    if (child.exitCode !== null) break;
    await sleep(5);
  }
  try {
    process.kill(unsharePid, 'SIGKILL');
  } catch {
    /* gone */
  }
  throw new Error('unshare --pid: the PID namespace holder did not start');
}

async function stopPidHolder(h: { unsharePid: number; pid: number; ns: string }): Promise<void> {
  if (!holderAlive(h)) return;
  // SIGKILL to PID 1 of the namespace ends every process in it; unshare then exits.
  try {
    process.kill(h.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  for (let i = 0; i < 200 && existsSync(`/proc/${h.pid}`); i++) await sleep(5);
}
