// This machine as a Kubernetes Node: capacity and allocatable, addresses,
// conditions, nodeInfo and the agent's endpoint (for logs/exec/port-forward).
import { cpus, hostname, networkInterfaces, totalmem, release, arch } from 'node:os';

export interface NodeFacts {
  name: string;
  hostIP: string;
  cpu: number;
  memoryBytes: number;
  podCidr: string;
  agentPort: number;
}

export function machineFacts(name: string, podCidr: string, agentPort: number, hostIP = primaryIPv4()): NodeFacts {
  return { name, hostIP, cpu: cpus().length, memoryBytes: totalmem(), podCidr, agentPort };
}

/** The first non-loopback IPv4 address (the node's InternalIP), else 127.0.0.1. */
export function primaryIPv4(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

const goArch = (): string => ({ x64: 'amd64', arm64: 'arm64', arm: 'arm' })[arch()] ?? arch();

export function nodeObject(f: NodeFacts): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: f.name,
      labels: { 'kubernetes.io/hostname': f.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': goArch(), 'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': goArch() },
    },
    spec: { podCIDR: f.podCidr, podCIDRs: [f.podCidr] },
  };
}

/** The conditions a running agent reports (lastTransitionTime: when this agent started). */
export function nodeConditions(bootTime: string): Record<string, string>[] {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: bootTime });
  return [
    cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    cond('Ready', 'True', 'KubeletReady', 'tug agent is posting ready status'),
  ];
}

export function nodeStatus(f: NodeFacts, bootTime: string): Record<string, unknown> {
  const resources = { cpu: String(f.cpu), memory: `${Math.floor(f.memoryBytes / 1024)}Ki`, pods: '110', 'ephemeral-storage': '10Gi' };
  return {
    capacity: resources,
    allocatable: resources,
    addresses: [
      { type: 'InternalIP', address: f.hostIP },
      { type: 'Hostname', address: hostname() },
    ],
    conditions: nodeConditions(bootTime),
    daemonEndpoints: { kubeletEndpoint: { Port: f.agentPort } },
    nodeInfo: {
      machineID: '',
      systemUUID: '',
      bootID: '',
      kernelVersion: release(),
      osImage: 'Linux',
      containerRuntimeVersion: 'tug://0.1.0',
      kubeletVersion: 'v1.32.0',
      kubeProxyVersion: 'v1.32.0',
      operatingSystem: 'linux',
      architecture: goArch(),
    },
  };
}
