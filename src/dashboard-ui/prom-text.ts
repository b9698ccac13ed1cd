// Reading Prometheus' text exposition format (what the API server's /metrics
// and an agent's /metrics/cadvisor serve) in the page: samples of the named
// families only, and rates between two scrapes of a counter.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of the families whose names wanted accepts. */
export function parseProm(text: string, wanted: (name: string) => boolean): Sample[] {
  const out: Sample[] = [];
  for (const l of text.split('\n')) {
    if (!l || l[0] === '#') continue;
    const m = line.exec(l);
    if (!m || !wanted(m[1]!)) continue;
    const labels: Record<string, string> = {};
    for (const x of (m[2] ?? '').matchAll(label)) labels[x[1]!] = x[2]!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of the samples named name that match the labels filter. */
export function total(samples: Sample[], name: string, match: (l: Record<string, string>) => boolean = () => true): number {
  let n = 0;
  for (const s of samples) if (s.name === name && match(s.labels) && Number.isFinite(s.value)) n += s.value;
  return n;
}

/** Per-second increase of a counter between two readings (0 after a reset: a restarted process starts from 0). */
export function rate(before: number, after: number, seconds: number): number {
  return seconds > 0 && after >= before ? (after - before) / seconds : 0;
}
