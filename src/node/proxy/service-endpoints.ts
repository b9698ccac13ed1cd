// One view of a Service's backends, whichever object carries them: the
// EndpointSlices labelled kubernetes.io/service-name when there are any (as
// kube-proxy prefers), else the older Endpoints object of the same name.
import type { KubeObject } from '../../kube/client/kube-client.js';

export interface BackendAddress {
  ip: string;
  ready: boolean;
  hostname?: string;
}

/** Backends of one named port of a Service (name '' for an unnamed port). */
export interface BackendPort {
  name: string;
  protocol: string;
  port: number;
  addresses: BackendAddress[];
}

export function backendsFromSlices(slices: KubeObject[]): BackendPort[] {
  const byPort = new Map<string, BackendPort>();
  for (const s of slices) {
    if (s['addressType'] && s['addressType'] !== 'IPv4') continue;
    const eps = (s['endpoints'] as any[] | undefined) ?? [];
    for (const p of (s['ports'] as any[] | undefined) ?? []) {
      if (typeof p.port !== 'number') continue;
      const key = `${p.name ?? ''}/${p.protocol ?? 'TCP'}`;
      let bp = byPort.get(key);
      if (!bp) byPort.set(key, (bp = { name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port, addresses: [] }));
      for (const e of eps) {
        // A missing ready condition means ready (EndpointSlice API semantics).
        const ready = e.conditions?.ready !== false && e.conditions?.terminating !== true;
        for (const ip of e.addresses ?? []) bp.addresses.push({ ip, ready, hostname: e.hostname });
      }
    }
  }
  return [...byPort.values()];
}

export function backendsFromEndpoints(ep: KubeObject | undefined): BackendPort[] {
  const out: BackendPort[] = [];
  for (const sub of (ep?.['subsets'] as any[] | undefined) ?? []) {
    const addrs: BackendAddress[] = [
      ...((sub.addresses ?? []) as any[]).map((a) => ({ ip: a.ip, ready: true, hostname: a.hostname })),
      ...((sub.notReadyAddresses ?? []) as any[]).map((a) => ({ ip: a.ip, ready: false, hostname: a.hostname })),
    ];
    for (const p of (sub.ports ?? []) as any[]) {
      if (typeof p.port !== 'number') continue;
      out.push({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port, addresses: addrs });
    }
  }
  return out;
}

/** The backends for a Service port, matched by port name and protocol as kube-proxy does. */
export function backendsForPort(all: BackendPort[], portName: string, protocol: string): BackendPort[] {
  return all.filter((b) => b.name === (portName ?? '') && b.protocol === protocol);
}
