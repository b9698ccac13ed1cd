// What the node and its pods use right now, read as the kubelet's cAdvisor
// reads it: the node from /proc (all CPUs' busy time; memory in use minus the
// inactive page cache), each pod container from its own cgroup through the
// engine's cgroup reader (the one behind `docker stats`, cgroup v1 or v2; its
// CPU-and-memory-only variant, since this runs every scrape).
// Working set = usage - inactive_file, as Kubernetes computes it, so page
// cache the kernel could drop does not count. CPU is cumulative (core-
// nanoseconds); a rate (usageNanoCores) needs two readings, which UsageTracker
// keeps per container and per node between calls.
import { readFile } from 'node:fs/promises';
import type { Engine } from '../../engine/engine.js';
import type { ContainerRecord } from '../../engine/container-record.js';
import { readCgroupUsage, type CgroupUsage } from '../../runtime/cgroups/index.js';
import { L } from './labels.js';

export interface Usage {
  /** Cumulative CPU time in core-nanoseconds. */
  cpuNs: number;
  /** CPU rate since the reading before (nanocores), when there was one. */
  nanoCores?: number;
  workingSetBytes: number;
  usageBytes: number;
  rssBytes?: number;
}

export interface ContainerUsage extends Usage {
  name: string;
  startTime: string;
  /** The engine's record (cAdvisor labels its series with its id, name and image). */
  record?: ContainerRecord;
}

export interface PodUsage extends Usage {
  namespace: string;
  name: string;
  uid: string;
  startTime: string;
  containers: ContainerUsage[];
  /** A running container's pid: the pod's network series are read from its (the pod's) network namespace. */
  netPid?: number;
}

export interface NodeUsage extends Usage {
  availableBytes: number;
}

export interface UsageSnapshot {
  time: Date;
  node: NodeUsage;
  pods: PodUsage[];
}

/** USER_HZ of /proc/stat (100 on every Linux ABI tug runs on). */
const NS_PER_TICK = 1e9 / 100;

/** The node's busy CPU time: every column of the aggregate line but idle and iowait. */
export function nodeCpuNs(procStat: string): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy * NS_PER_TICK;
}

/** /proc/meminfo as the root cgroup would count it: usage = total - free, working set = usage - inactive file pages. */
export function nodeMemory(meminfo: string): { usageBytes: number; workingSetBytes: number; availableBytes: number; totalBytes: number } {
  const kb = (key: string): number => Number(new RegExp(`^${key.replace(/[()]/g, '\\$&')}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0) * 1024;
  const totalBytes = kb('MemTotal');
  const usageBytes = Math.max(0, totalBytes - kb('MemFree'));
  const workingSetBytes = Math.max(0, usageBytes - kb('Inactive(file)'));
  return { usageBytes, workingSetBytes, availableBytes: Math.max(0, totalBytes - workingSetBytes), totalBytes };
}

/** usage - inactive_file (v2), usage - total_inactive_file (v1), never below 0. */
export function workingSet(s: CgroupUsage): number {
  const st = s.memoryStats;
  const inactive = st.total_inactive_file ?? st.inactive_file ?? 0;
  return Math.max(0, s.memoryUsage - inactive);
}

function rss(s: CgroupUsage): number | undefined {
  return s.memoryStats.total_rss ?? s.memoryStats.anon;
}

interface Reading {
  cpuNs: number;
  at: number;
  nanoCores?: number;
}

/** The shortest gap between two readings that a rate is computed over; closer calls reuse the last rate. */
const MIN_RATE_WINDOW_MS = 500;

export class UsageTracker {
  private readings = new Map<string, Reading>();

  constructor(private readonly engine: Engine) {}

  /** A fresh reading of the node and of every running pod container, with rates where a reading came before. */
  async snapshot(): Promise<UsageSnapshot> {
    const now = Date.now();
    const seen = new Set<string>();
    const rate = (key: string, cpuNs: number): number | undefined => {
      seen.add(key);
      const prev = this.readings.get(key);
      if (!prev || cpuNs < prev.cpuNs) {
        this.readings.set(key, { cpuNs, at: now });
        return undefined;
      }
      if (now - prev.at < MIN_RATE_WINDOW_MS) return prev.nanoCores;
      const nanoCores = Math.round(((cpuNs - prev.cpuNs) / (now - prev.at)) * 1e6);
      this.readings.set(key, { cpuNs, at: now, nanoCores });
      return nanoCores;
    };
    const [procStat, meminfo] = await Promise.all([readFile('/proc/stat', 'utf8'), readFile('/proc/meminfo', 'utf8')]);
    const nodeCpu = nodeCpuNs(procStat);
    const mem = nodeMemory(meminfo);
    const node: NodeUsage = { cpuNs: nodeCpu, nanoCores: rate('node', nodeCpu), usageBytes: mem.usageBytes, workingSetBytes: mem.workingSetBytes, availableBytes: mem.availableBytes };

    const byPod = new Map<string, ContainerRecord[]>();
    for (const c of this.engine.containers.all()) {
      const uid = c.Config.Labels?.[L.podUid];
      if (!uid || !c.State.Running) continue;
      byPod.set(uid, [...(byPod.get(uid) ?? []), c]);
    }
    const pods: PodUsage[] = [];
    await Promise.all(
      [...byPod].map(async ([uid, containers]) => {
        const read = await Promise.all(containers.map(async (c) => ({ c, s: await readCgroupUsage(c.Tug.cgroupsPath).catch(() => undefined) })));
        const labels = containers[0]!.Config.Labels;
        const pod: PodUsage = { namespace: labels[L.podNamespace]!, name: labels[L.podName]!, uid, startTime: '', containers: [], cpuNs: 0, workingSetBytes: 0, usageBytes: 0, rssBytes: 0 };
        for (const { c, s } of read) {
          if (!s) continue;
          const cpuNs = s.cpuNs;
          const u = { cpuNs, workingSetBytes: workingSet(s), usageBytes: s.memoryUsage, rssBytes: rss(s) };
          // The sandbox counts toward the pod (its cgroup is part of the pod's), not as a container of its own.
          pod.cpuNs += u.cpuNs;
          pod.workingSetBytes += u.workingSetBytes;
          pod.usageBytes += u.usageBytes;
          pod.rssBytes! += u.rssBytes ?? 0;
          pod.netPid ||= c.State.Pid;
          pod.containers.push({ name: c.Config.Labels[L.container]!, startTime: c.State.StartedAt, ...u, nanoCores: rate(c.Id, cpuNs), record: c });
        }
        if (!pod.containers.length) return;
        // The pod started when its sandbox (the pinned namespaces) was made.
        const sandbox = this.engine.pods.all().find((s) => s.labels[L.podUid] === uid);
        pod.startTime = sandbox?.created ?? pod.containers[0]!.startTime;
        if (sandbox?.network === 'host') pod.netPid = undefined; // the node's interfaces are not the pod's
        pod.containers.sort((a, b) => a.name.localeCompare(b.name));
        // Summed per container, so a restarted container does not read as a negative rate for the pod.
        pod.nanoCores = pod.containers.every((c) => c.nanoCores !== undefined) ? pod.containers.reduce((n, c) => n + c.nanoCores!, 0) : undefined;
        pods.push(pod);
      }),
    );
    // Containers gone since the last call leave no reading behind.
    for (const k of this.readings.keys()) if (!seen.has(k)) this.readings.delete(k);
    pods.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    return { time: new Date(now), node, pods };
  }
}
