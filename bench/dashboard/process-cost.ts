// A process's CPU (% of one core) and resident memory over a window, from
// /proc: what the dashboard benchmarks sample on the daemon or the server
// with the page closed and then open.
import { readFileSync } from 'node:fs';

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function rssKb(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
}

export async function sample(pid: number, seconds: number): Promise<{ cpu: number; rssMb: number }> {
  const t0 = cpuTicks(pid);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return { cpu: ((cpuTicks(pid) - t0) / 100 / seconds) * 100, rssMb: rssKb(pid) / 1024 };
}
