// The kubelet's GET /metrics/cadvisor: per-container CPU, memory and network
// under cAdvisor's names and labels (container, pod, namespace, name, id,
// image), which the usual Kubernetes dashboards (kubernetes-mixin, Grafana
// 315/6417) query. Read from the same snapshot as /metrics/resource
// (resource-usage.ts): cgroup CPU and memory per container; network per pod,
// from the sandbox's network namespace, as cAdvisor reports it on the pod's
// infra ("POD") container; and the node's own network as cAdvisor's root
// container (id="/"): the agent's network namespace, which is its node's,
// less the pods' veths (counted per pod already), as cAdvisor leaves them out.
import { networkStats } from '../../engine/stats.js';
import type { ContainerRecord } from '../../engine/container-record.js';
import type { UsageSnapshot } from './resource-usage.js';

const families: Array<[string, string, 'counter' | 'gauge']> = [
  ['container_cpu_usage_seconds_total', 'Cumulative cpu time consumed in seconds.', 'counter'],
  ['container_memory_working_set_bytes', 'Current working set in bytes.', 'gauge'],
  ['container_memory_usage_bytes', 'Current memory usage in bytes, including all memory regardless of when it was accessed', 'gauge'],
  ['container_memory_rss', 'Size of RSS in bytes.', 'gauge'],
  ['container_start_time_seconds', 'Start time of the container since unix epoch in seconds.', 'gauge'],
  ['container_network_receive_bytes_total', 'Cumulative count of bytes received', 'counter'],
  ['container_network_receive_packets_total', 'Cumulative count of packets received', 'counter'],
  ['container_network_receive_errors_total', 'Cumulative count of errors encountered while receiving', 'counter'],
  ['container_network_receive_packets_dropped_total', 'Cumulative count of packets dropped while receiving', 'counter'],
  ['container_network_transmit_bytes_total', 'Cumulative count of bytes transmitted', 'counter'],
  ['container_network_transmit_packets_total', 'Cumulative count of packets transmitted', 'counter'],
  ['container_network_transmit_errors_total', 'Cumulative count of errors encountered while transmitting', 'counter'],
  ['container_network_transmit_packets_dropped_total', 'Cumulative count of packets dropped while transmitting', 'counter'],
];

/** /proc/net/dev column -> cAdvisor's network family. */
const netColumns: Array<[string, string]> = [
  ['rx_bytes', 'container_network_receive_bytes_total'],
  ['rx_packets', 'container_network_receive_packets_total'],
  ['rx_errors', 'container_network_receive_errors_total'],
  ['rx_dropped', 'container_network_receive_packets_dropped_total'],
  ['tx_bytes', 'container_network_transmit_bytes_total'],
  ['tx_packets', 'container_network_transmit_packets_total'],
  ['tx_errors', 'container_network_transmit_errors_total'],
  ['tx_dropped', 'container_network_transmit_packets_dropped_total'],
];

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labelText = (l: Record<string, string>): string => `{${Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}`;

/** cAdvisor's identity labels of one container: id is its cgroup, name the runtime's name, image as the pod asked for it. */
function identity(c: ContainerRecord | undefined, container: string, pod: { namespace: string; name: string }): Record<string, string> {
  return { container, id: c?.Tug.cgroupsPath ?? '', image: c?.Config.Image ?? '', name: c?.Name.replace(/^\//, '') ?? '', namespace: pod.namespace, pod: pod.name };
}

export async function cadvisorMetricsText(s: UsageSnapshot): Promise<string> {
  const lines = new Map<string, string[]>(families.map(([name]) => [name, []]));
  const add = (name: string, l: Record<string, string>, v: number | undefined) => {
    if (v !== undefined && Number.isFinite(v)) lines.get(name)!.push(`${name}${labelText(l)} ${v}`);
  };
  const nets = await Promise.all(s.pods.map((p) => (p.netPid ? networkStats(p.netPid) : Promise.resolve(undefined))));
  const root = { container: '', id: '/', image: '', name: '', namespace: '', pod: '' };
  for (const [iface, counters] of Object.entries((await networkStats(process.pid)) ?? {})) {
    if (iface.startsWith('veth')) continue;
    for (const [column, family] of netColumns) add(family, { ...root, interface: iface }, counters[column]);
  }
  s.pods.forEach((p, i) => {
    for (const c of p.containers) {
      const l = identity(c.record, c.name, p);
      add('container_cpu_usage_seconds_total', { ...l, cpu: 'total' }, c.cpuNs / 1e9);
      add('container_memory_working_set_bytes', l, c.workingSetBytes);
      add('container_memory_usage_bytes', l, c.usageBytes);
      add('container_memory_rss', l, c.rssBytes);
      add('container_start_time_seconds', l, Date.parse(c.startTime) / 1000);
    }
    const net = nets[i];
    if (!net) return;
    const l = identity(undefined, 'POD', p);
    for (const [iface, counters] of Object.entries(net)) {
      for (const [column, family] of netColumns) add(family, { ...l, interface: iface }, counters[column]);
    }
  });
  let out = '';
  for (const [name, help, type] of families) out += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${lines.get(name)!.map((x) => `${x}\n`).join('')}`;
  return out;
}
