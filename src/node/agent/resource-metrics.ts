// The kubelet's GET /metrics/resource: the few Prometheus series
// metrics-server scrapes (cumulative CPU seconds, working-set bytes and start
// times of the node, its pods and their containers), each sample stamped with
// the time it was read, in the text exposition format.
import type { UsageSnapshot } from './resource-usage.js';

const series: Array<[string, string, 'counter' | 'gauge']> = [
  ['container_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the container in core-seconds', 'counter'],
  ['container_memory_working_set_bytes', 'Current working set of the container in bytes', 'gauge'],
  ['container_start_time_seconds', 'Start time of the container since unix epoch in seconds', 'gauge'],
  ['node_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the node in core-seconds', 'counter'],
  ['node_memory_working_set_bytes', 'Current working set of the node in bytes', 'gauge'],
  ['pod_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the pod in core-seconds', 'counter'],
  ['pod_memory_working_set_bytes', 'Current working set of the pod in bytes', 'gauge'],
  ['resource_scrape_error', '1 if there was an error while getting container metrics, 0 otherwise', 'gauge'],
];

/** A label value with \, " and newline escaped as the format asks. */
const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string>): string => `{${Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}`;

export function resourceMetricsText(s: UsageSnapshot): string {
  const ts = s.time.getTime();
  const samples = new Map<string, string[]>(series.map(([name]) => [name, []]));
  const add = (name: string, l: Record<string, string> | undefined, v: number, stamped = true) => samples.get(name)!.push(`${name}${l ? labels(l) : ''} ${v}${stamped ? ` ${ts}` : ''}`);
  add('node_cpu_usage_seconds_total', undefined, s.node.cpuNs / 1e9);
  add('node_memory_working_set_bytes', undefined, s.node.workingSetBytes);
  for (const p of s.pods) {
    const pl = { namespace: p.namespace, pod: p.name };
    add('pod_cpu_usage_seconds_total', pl, p.cpuNs / 1e9);
    add('pod_memory_working_set_bytes', pl, p.workingSetBytes);
    for (const c of p.containers) {
      const cl = { container: c.name, ...pl };
      add('container_cpu_usage_seconds_total', cl, c.cpuNs / 1e9);
      add('container_memory_working_set_bytes', cl, c.workingSetBytes);
      add('container_start_time_seconds', cl, Date.parse(c.startTime) / 1000);
    }
  }
  add('resource_scrape_error', undefined, 0, false);
  let out = '';
  for (const [name, help, type] of series) out += `# HELP ${name} [STABLE] ${help}\n# TYPE ${name} ${type}\n${samples.get(name)!.map((l) => `${l}\n`).join('')}`;
  return out;
}
