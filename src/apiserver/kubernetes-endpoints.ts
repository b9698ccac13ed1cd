// The `kubernetes` Service's Endpoints and EndpointSlices, kept by every API
// server of the cluster from the API servers' identity Leases (kube-system,
// label apiserver.kubernetes.io/identity=kube-apiserver), as kube-apiserver's
// lease endpoint reconciler does: each server renews its own Lease and
// rewrites the Endpoints to list every server whose Lease is fresh, so with
// several servers on one store (HA) all of them are listed and one that died
// drops out once its Lease expires. Servers on one machine share an address
// and differ in port: the Endpoints get one subset per port and there is one
// EndpointSlice per port (a slice has a single port list). Writes happen only
// when the set changes.
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { isKind, messageOf } from '../errdefs.js';
import type { ObjectStore } from './object-store.js';
import type { KObject } from '../kube/api/resource-type.js';

export const IDENTITY_LABEL = 'apiserver.kubernetes.io/identity';
const ADDRESS_ANNOTATION = 'apiserver.tug.dev/advertise-address';
const PORT_ANNOTATION = 'apiserver.tug.dev/secure-port';
const MANAGER = 'tug-apiserver';
const SLICE_MANAGED_BY = 'tug-apiserver';
/** Like kube-apiserver's endpoint reconciler TTL: a server that stops renewing is dropped this long after its last renewal. */
export const DEFAULT_LEASE_SECONDS = 15;

export interface ApiserverIdentityOptions {
  /** What the Endpoints advertise for this server. */
  address: string;
  port: number;
  leaseDurationSeconds?: number;
  /**
   * No other server shares this store (SQLite): any other identity Lease was
   * left by an earlier run of this server (killed, restarted on another port)
   * and is dropped at once instead of when it expires.
   */
  soleServer?: boolean;
  log?: (msg: string) => void;
}

export interface ApiserverIdentity {
  leaseName: string;
  /** Renews now and rewrites the Endpoints if the set of live servers changed. */
  sync(): Promise<void>;
  /** Stops renewing, deletes this server's Lease and takes it out of the Endpoints. */
  stop(): Promise<void>;
}

interface ApiEndpoint {
  ip: string;
  port: number;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

function leaseEndpoint(l: KObject, now: number): ApiEndpoint | undefined {
  const renewed = Date.parse(l.spec?.renewTime ?? '');
  const duration = Number(l.spec?.leaseDurationSeconds);
  if (!Number.isFinite(renewed) || !(duration > 0) || renewed + duration * 1000 <= now) return undefined;
  const ip = l.metadata?.annotations?.[ADDRESS_ANNOTATION];
  const port = Number(l.metadata?.annotations?.[PORT_ANNOTATION]);
  return ip && port > 0 ? { ip, port } : undefined;
}

/** Servers grouped by port, in a stable order (so an unchanged set compares equal). */
function byPort(eps: ApiEndpoint[]): Array<{ port: number; ips: string[] }> {
  const m = new Map<number, Set<string>>();
  for (const e of eps) m.set(e.port, (m.get(e.port) ?? new Set()).add(e.ip));
  return [...m].sort((a, b) => a[0] - b[0]).map(([port, ips]) => ({ port, ips: [...ips].sort() }));
}

const sliceName = (i: number, port: number): string => (i === 0 ? 'kubernetes' : `kubernetes-${port}`);

export async function startApiserverIdentity(objects: ObjectStore, o: ApiserverIdentityOptions): Promise<ApiserverIdentity> {
  const reg = objects.registry;
  const leaseType = reg.lookup('coordination.k8s.io', 'v1', 'leases')!;
  const epType = reg.lookup('', 'v1', 'endpoints')!;
  const sliceType = reg.lookup('discovery.k8s.io', 'v1', 'endpointslices')!;
  const duration = o.leaseDurationSeconds ?? DEFAULT_LEASE_SECONDS;
  const host = hostname().toLowerCase();
  // Two servers on one host differ by address and port; kube-apiserver names its Lease after a hash of its identity too.
  const leaseName = `apiserver-${createHash('sha256').update(`${host}:${o.address}:${o.port}`).digest('hex').slice(0, 26)}`;
  const holder = `${leaseName}_${randomUUID()}`;
  const log = o.log ?? ((m: string) => process.stderr.write(`tug server: ${m}\n`));
  let stopped = false;

  async function renew(): Promise<void> {
    const now = microTime(new Date());
    const body = {
      metadata: { name: leaseName, namespace: 'kube-system', labels: { [IDENTITY_LABEL]: 'kube-apiserver', 'kubernetes.io/hostname': host }, annotations: { [ADDRESS_ANNOTATION]: o.address, [PORT_ANNOTATION]: String(o.port) } },
      spec: { holderIdentity: holder, leaseDurationSeconds: duration, acquireTime: now, renewTime: now },
    };
    const cur = await objects.getOrNull(leaseType, 'kube-system', leaseName);
    if (cur) {
      body.spec.acquireTime = cur.spec?.holderIdentity === holder ? (cur.spec?.acquireTime ?? now) : now;
      await objects.update(leaseType, 'kube-system', leaseName, body, { fieldManager: MANAGER });
    } else await objects.create(leaseType, 'kube-system', body, { fieldManager: MANAGER });
  }

  async function write(t: typeof epType, name: string, body: Record<string, any>, same: (cur: KObject) => boolean): Promise<void> {
    const cur = await objects.getOrNull(t, 'default', name);
    if (cur && same(cur)) return;
    try {
      if (cur) await objects.update(t, 'default', name, body, { fieldManager: MANAGER });
      else await objects.create(t, 'default', body, { fieldManager: MANAGER });
    } catch (err) {
      // Another server wrote it between our read and write: its next pass or ours converges.
      if (!isKind(err, 'already-exists') && !isKind(err, 'conflict')) throw err;
    }
  }

  /** Lists the fresh Leases, deletes expired ones (left by servers that died or moved port) and writes Endpoints and slices. */
  async function reconcile(): Promise<void> {
    const now = Date.now();
    const leases = (await objects.list(leaseType, 'kube-system', { labelSelector: `${IDENTITY_LABEL}=kube-apiserver` })).items;
    const live: ApiEndpoint[] = [];
    for (const l of leases) {
      const ep = o.soleServer && l.metadata?.name !== leaseName ? undefined : leaseEndpoint(l, now);
      if (ep) live.push(ep);
      else await objects.delete(leaseType, 'kube-system', l.metadata!.name!, { preconditions: { uid: l.metadata?.uid } }).catch(() => undefined);
    }
    const groups = byPort(live);
    if (!groups.length) return; // nobody left to advertise (the last server stopping): leave the last word standing
    const subsets = groups.map((g) => ({ addresses: g.ips.map((ip) => ({ ip })), ports: [{ name: 'https', port: g.port, protocol: 'TCP' }] }));
    await write(epType, 'kubernetes', { metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets }, (cur) => JSON.stringify(cur.subsets) === JSON.stringify(subsets));
    const wanted = new Set<string>();
    for (const [i, g] of groups.entries()) {
      const name = sliceName(i, g.port);
      wanted.add(name);
      const endpoints = g.ips.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false } }));
      const ports = [{ name: 'https', port: g.port, protocol: 'TCP' }];
      const slice = { metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': SLICE_MANAGED_BY } }, addressType: 'IPv4', endpoints, ports };
      await write(sliceType, name, slice, (cur) => JSON.stringify([cur.endpoints, cur.ports]) === JSON.stringify([endpoints, ports]));
    }
    const slices = (await objects.list(sliceType, 'default', { labelSelector: `kubernetes.io/service-name=kubernetes,endpointslice.kubernetes.io/managed-by=${SLICE_MANAGED_BY}` })).items;
    for (const s of slices) if (!wanted.has(s.metadata!.name!)) await objects.delete(sliceType, 'default', s.metadata!.name!).catch(() => undefined);
  }

  // One pass at a time: the timer and stop() never interleave their writes.
  let chain: Promise<void> = Promise.resolve();
  const sync = (): Promise<void> => {
    // A failed pass (store unreachable) must not wedge the ones after it.
    chain = chain.catch(() => undefined).then(async () => {
      if (!stopped) await renew();
      await reconcile();
    });
    return chain;
  };
  await sync();
  const timer = setInterval(() => void sync().catch((err) => log(`kubernetes endpoints: ${messageOf(err)}`)), Math.max(1000, (duration * 1000) / 3));
  timer.unref();
  return {
    leaseName,
    sync,
    async stop() {
      clearInterval(timer);
      stopped = true;
      await chain.catch(() => undefined);
      await objects.delete(leaseType, 'kube-system', leaseName).catch(() => undefined);
      await sync().catch((err) => log(`kubernetes endpoints: ${messageOf(err)}`));
    },
  };
}
