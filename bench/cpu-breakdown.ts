// Where the CPU of a benchmark window goes, from /proc: each process's threads
// (utime and stime of /proc/PID/task/TID/stat), grouped as the Node server's
// main thread (tid = pid), its controllers' worker thread (which names itself
// tug-controllers), the helper threads Node starts with the process, before
// any JS runs (V8's platform threads: concurrent GC marking and sweeping,
// compilation), and the threads started later (libuv's thread pool, started by
// the first fs, fsync or crypto call); plus the
// whole machine's busy time from /proc/stat, so what no listed process
// accounts for (kernel threads, softirq work charged to no one, other users of
// a shared machine) shows as the remainder. Divided by a count of operations
// it is CPU per operation, which a loaded machine disturbs far less than rates.
import { readFile, readdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';

/** USER_HZ: /proc reports CPU time in 1/100 s on Linux. */
const TICK_MS = 10;
/**
 * How many threads Node 20 starts with the process before any JS runs (V8's 4 platform workers, the
 * signal/inspector and delayed-task threads); thread ids grow in creation order, so they are the
 * lowest after the main thread's.
 */
const STARTUP_THREADS = 6;

interface ThreadCpu { tid: number; comm: string; user: number; sys: number }
export interface CpuSnapshot { machine: number; softirq: number; procs: Map<string, { pid: number; threads: ThreadCpu[] }>; others: Map<number, { comm: string; ms: number }> }

async function threads(pid: number): Promise<ThreadCpu[]> {
  const tids = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const out: ThreadCpu[] = [];
  for (const t of tids) {
    const stat = await readFile(`/proc/${pid}/task/${t}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    // Fields after the command name: utime and stime are the 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.push({ tid: Number(t), comm, user: Number(f[11]) * TICK_MS, sys: Number(f[12]) * TICK_MS });
  }
  return out;
}

/** Busy time of all CPUs (user, nice, system, irq, softirq, steal) and the softirq part, from /proc/stat. */
async function machineBusy(): Promise<[number, number]> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0];
  const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
  return [(user + nice + system + irq + softirq + steal) * TICK_MS, (irq + softirq) * TICK_MS];
}

/** CPU so far of every process on the machine (all its threads; not its children, which are processes of their own), by PID. */
async function allProcesses(): Promise<Map<number, { comm: string; ms: number }>> {
  const out = new Map<number, { comm: string; ms: number }>();
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const stat = await readFile(`/proc/${d}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(d), { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ms: (Number(f[11]) + Number(f[12])) * TICK_MS });
  }
  return out;
}

/** CPU so far of each named process's threads (the name is the table's row label) and of the machine. */
export async function cpuSnapshot(procs: Record<string, number | undefined>): Promise<CpuSnapshot> {
  const map = new Map<string, { pid: number; threads: ThreadCpu[] }>();
  for (const [name, pid] of Object.entries(procs)) if (pid) map.set(name, { pid, threads: await threads(pid) });
  const [machine, softirq] = await machineBusy();
  return { machine, softirq, procs: map, others: await allProcesses() };
}

/** The group a Node thread belongs to (see the header). */
function nodeGroup(pid: number, startup: Set<number>, t: ThreadCpu): string {
  if (t.tid === pid) return 'main thread';
  if (t.comm === 'tug-controllers') return 'controllers worker thread';
  return startup.has(t.tid) ? 'V8 helper threads (GC, compile)' : 'later threads (libuv pool, ...)';
}

/**
 * A markdown table of the CPU spent between two snapshots, per operation (ms), user and system
 * apart, by process and (for Node processes, `node: true`) by thread group.
 */
export function cpuBreakdown(a: CpuSnapshot, b: CpuSnapshot, ops: number, nodeProcs: string[] = []): string {
  const rows: [string, number, number][] = [];
  let listed = 0;
  for (const [name, after] of b.procs) {
    const before = new Map((a.procs.get(name)?.threads ?? []).map((t) => [t.tid, t]));
    const groups = new Map<string, [number, number]>();
    const startup = new Set(after.threads.map((t) => t.tid).filter((tid) => tid !== after.pid).sort((x, y) => x - y).slice(0, STARTUP_THREADS));
    let u = 0;
    let s = 0;
    for (const t of after.threads) {
      const was = before.get(t.tid);
      const du = t.user - (was?.user ?? 0);
      const ds = t.sys - (was?.sys ?? 0);
      u += du;
      s += ds;
      if (!nodeProcs.includes(name)) continue;
      const g = nodeGroup(after.pid, startup, t);
      const have = groups.get(g) ?? [0, 0];
      groups.set(g, [have[0] + du, have[1] + ds]);
    }
    rows.push([name, u, s]);
    for (const [g, [gu, gs]] of groups) rows.push([`  ${name}: ${g}`, gu, gs]);
    listed += u + s;
  }
  const per = (x: number) => (x / ops).toFixed(2);
  const machine = b.machine - a.machine;
  // Every other process's CPU in the window (one that started inside it counts whole; one that ended inside it, not at all).
  const listedPids = new Set([...b.procs.values()].map((p) => p.pid));
  let others = 0;
  const byComm = new Map<string, number>();
  for (const [pid, p] of b.others) {
    if (listedPids.has(pid)) continue;
    const d = p.ms - (a.others.get(pid)?.ms ?? 0);
    others += d;
    byComm.set(p.comm, (byComm.get(p.comm) ?? 0) + d);
  }
  const top = [...byComm].sort((x, y) => y[1] - x[1]).slice(0, 3).filter(([, ms]) => ms > 0).map(([c, ms]) => `${c} ${per(ms)}`).join(', ');
  const lines = ['| where | user ms/op | sys ms/op | total ms/op |', '| --- | --- | --- | --- |'];
  for (const [name, u, s] of rows) lines.push(`| ${name} | ${per(u)} | ${per(s)} | ${per(u + s)} |`);
  lines.push(`| other processes and kernel threads (most: ${top || 'none'}) | | | ${per(others)} |`);
  lines.push(`| interrupts and softirq (loopback packets) charged to no process | | | ${per(b.softirq - a.softirq)} |`);
  lines.push(`| unaccounted (processes that ended inside the window, rounding) | | | ${per(machine - listed - others - (b.softirq - a.softirq))} |`);
  lines.push(`| whole machine | | | ${per(machine)} |`);
  // The floor argument: these processes alone cannot do more operations a second than the cores give them CPU for.
  const cores = availableParallelism();
  lines.push('', `At ${per(listed)} ms of CPU per operation in the listed processes, ${cores} cores give at most ${((cores * 1000 * ops) / listed).toFixed(0)} operations/s.`);
  return lines.join('\n');
}
