// ClusterIP and NodePort allocation for Services. Used addresses are derived
// from the stored Services themselves (no separate bitmap to drift out of
// sync); a per-server lock serializes allocations.
import { randomInt } from 'node:crypto';
import type { KObject, TypeHooks, FieldError } from '../kube/api/resource-type.js';
import type { ObjectStore } from './object-store.js';
import { invalidError } from './status.js';
import { invalid } from '../errdefs.js';

export interface ServiceAllocatorOptions {
  /** e.g. 10.96.0.0/12 */
  serviceCidr: string;
  nodePortRange?: [number, number];
}

const ipToInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const intToIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

export function parseCidr(cidr: string): { base: number; size: number } {
  const m = cidr.match(/^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/);
  if (!m || Number(m[2]) > 30) throw invalid(`--service-cidr: "${cidr}" is not an IPv4 CIDR of at least 4 addresses`);
  const bits = Number(m[2]);
  const size = 2 ** (32 - bits);
  const base = ipToInt(m[1]) - (ipToInt(m[1]) % size);
  return { base, size };
}

/** Kubernetes' --service-node-port-range default. */
export { DEFAULT_NODE_PORT_RANGE, parseNodePortRange } from '../kube/api/node-port-range.js';
import { DEFAULT_NODE_PORT_RANGE } from '../kube/api/node-port-range.js';

/** --service-node-port-range: "LOW-HIGH" (Kubernetes also takes "LOW+SIZE"; so does tug). */
export function serviceHooks(objects: ObjectStore, opts: ServiceAllocatorOptions): TypeHooks {
  const { base, size } = parseCidr(opts.serviceCidr);
  const [portLo, portHi] = opts.nodePortRange ?? DEFAULT_NODE_PORT_RANGE;
  let lock: Promise<unknown> = Promise.resolve();
  // Allocated but maybe not yet written: held briefly so a concurrent create cannot take them.
  const reservedIps = new Set<string>();
  const reservedPorts = new Set<number>();
  const hold = (ip: string | undefined, ports: number[]) => {
    if (ip && ip !== 'None') reservedIps.add(ip);
    for (const p of ports) reservedPorts.add(p);
    setTimeout(() => {
      if (ip) reservedIps.delete(ip);
      for (const p of ports) reservedPorts.delete(p);
    }, 10_000).unref();
  };
  const svcType = objects.registry.lookup('', 'v1', 'services')!;

  const inUse = async () => {
    const { items } = await objects.list(svcType, undefined);
    const ips = new Set<string>(reservedIps);
    const ports = new Set<number>(reservedPorts);
    for (const s of items) {
      for (const ip of s.spec?.clusterIPs ?? [s.spec?.clusterIP]) if (ip && ip !== 'None') ips.add(ip);
      for (const p of s.spec?.ports ?? []) if (p.nodePort) ports.add(p.nodePort);
    }
    return { ips, ports };
  };

  const allocate = async (o: KObject, old?: KObject) => {
    const s = o.spec ?? {};
    const name = o.metadata?.name ?? '';
    const errs: FieldError[] = [];
    const used = await inUse();
    if (old) {
      for (const ip of old.spec?.clusterIPs ?? [old.spec?.clusterIP]) used.ips.delete(ip);
      for (const p of old.spec?.ports ?? []) used.ports.delete(p.nodePort);
    }
    if (s.type === 'ExternalName') {
      delete s.clusterIP;
      delete s.clusterIPs;
    } else if (s.clusterIP === 'None') {
      s.clusterIPs = ['None'];
    } else if (!s.clusterIP && old?.spec?.clusterIP) {
      s.clusterIP = old.spec.clusterIP;
      s.clusterIPs = old.spec.clusterIPs ?? [old.spec.clusterIP];
    } else if (!s.clusterIP) {
      const start = randomInt(2, size - 1);
      for (let i = 0; i < size - 3; i++) {
        const ip = intToIp(base + 2 + ((start - 2 + i) % (size - 3)));
        if (!used.ips.has(ip)) {
          s.clusterIP = ip;
          break;
        }
      }
      if (!s.clusterIP) errs.push({ field: 'spec.clusterIP', type: 'FieldValueInvalid', message: 'Internal error: range is full' });
      s.clusterIPs = [s.clusterIP];
    } else if (s.clusterIP !== old?.spec?.clusterIP) {
      const n = ipToInt(s.clusterIP);
      if (!/^\d+\.\d+\.\d+\.\d+$/.test(s.clusterIP) || n < base || n >= base + size) {
        errs.push({ field: 'spec.clusterIPs', type: 'FieldValueInvalid', message: `Invalid value: []string{"${s.clusterIP}"}: failed to allocate IP ${s.clusterIP}: the provided IP (${s.clusterIP}) is not in the valid range. The range of valid IPs is ${opts.serviceCidr}` });
      } else if (used.ips.has(s.clusterIP)) {
        errs.push({ field: 'spec.clusterIPs', type: 'FieldValueInvalid', message: `Invalid value: []string{"${s.clusterIP}"}: failed to allocate IP ${s.clusterIP}: provided IP is already allocated` });
      }
      s.clusterIPs = [s.clusterIP];
    }
    const wantsNodePorts = s.type === 'NodePort' || (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts !== false);
    (s.ports ?? []).forEach((p: any, i: number) => {
      if (!wantsNodePorts) {
        delete p.nodePort;
        return;
      }
      if (!p.nodePort) {
        const prev = (old?.spec?.ports ?? []).find((x: any) => x.port === p.port && (x.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
        if (prev?.nodePort) p.nodePort = prev.nodePort;
      }
      if (p.nodePort && (old?.spec?.ports ?? []).some((x: any) => x.nodePort === p.nodePort)) {
        used.ports.add(p.nodePort);
        return;
      }
      if (p.nodePort) {
        if (p.nodePort < portLo || p.nodePort > portHi) errs.push({ field: `spec.ports[${i}].nodePort`, type: 'FieldValueInvalid', message: `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${portLo}-${portHi}` });
        else if (used.ports.has(p.nodePort)) errs.push({ field: `spec.ports[${i}].nodePort`, type: 'FieldValueInvalid', message: `Invalid value: ${p.nodePort}: provided port is already allocated` });
        used.ports.add(p.nodePort);
        return;
      }
      const span = portHi - portLo + 1;
      const start = randomInt(0, span);
      for (let k = 0; k < span; k++) {
        const port = portLo + ((start + k) % span);
        if (!used.ports.has(port)) {
          p.nodePort = port;
          used.ports.add(port);
          return;
        }
      }
      errs.push({ field: `spec.ports[${i}].nodePort`, type: 'FieldValueInvalid', message: 'Internal error: range is full' });
    });
    if (errs.length) throw invalidError(svcType, name, errs);
    hold(s.clusterIP, (s.ports ?? []).map((p: any) => p.nodePort).filter(Boolean));
  };

  const serialized = (fn: () => Promise<void>) => {
    const run = lock.then(fn, fn);
    lock = run.catch(() => undefined);
    return run;
  };

  return {
    beforeCreate: (o) => serialized(() => allocate(o)),
    beforeUpdate: (o, old) => serialized(() => allocate(o, old)),
  };
}

/** The first usable address of the service CIDR, reserved for the `kubernetes` Service. */
export function firstServiceIp(cidr: string): string {
  const { base } = parseCidr(cidr);
  return intToIp(base + 1);
}
