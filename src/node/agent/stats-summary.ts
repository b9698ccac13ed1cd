// The kubelet's GET /stats/summary (stats/v1alpha1 Summary) from a usage
// snapshot: node CPU and memory, and per pod and per container CPU and
// memory. Only the fields the resource metrics pipeline reads are filled;
// the rest of the kubelet's shape (filesystems, network) is left out rather
// than made up.
import type { ContainerUsage, PodUsage, Usage, UsageSnapshot } from './resource-usage.js';

function cpu(u: Usage, time: string): Record<string, unknown> {
  return { time, ...(u.nanoCores !== undefined ? { usageNanoCores: u.nanoCores } : {}), usageCoreNanoSeconds: Math.round(u.cpuNs) };
}

function memory(u: Usage, time: string, availableBytes?: number): Record<string, unknown> {
  return {
    time,
    ...(availableBytes !== undefined ? { availableBytes } : {}),
    usageBytes: u.usageBytes,
    workingSetBytes: u.workingSetBytes,
    ...(u.rssBytes !== undefined ? { rssBytes: u.rssBytes } : {}),
  };
}

const container = (c: ContainerUsage, time: string) => ({ name: c.name, startTime: c.startTime, cpu: cpu(c, time), memory: memory(c, time) });

const pod = (p: PodUsage, time: string) => ({
  podRef: { name: p.name, namespace: p.namespace, uid: p.uid },
  startTime: p.startTime,
  containers: p.containers.map((c) => container(c, time)),
  cpu: cpu(p, time),
  memory: memory(p, time),
});

export function statsSummary(nodeName: string, bootTime: string, s: UsageSnapshot): Record<string, unknown> {
  const time = s.time.toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    node: { nodeName, startTime: bootTime, cpu: cpu(s.node, time), memory: memory(s.node, time, s.node.availableBytes) },
    pods: s.pods.map((p) => pod(p, time)),
  };
}
