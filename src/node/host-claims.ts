// What a tug node takes of its machine, claimed so that a second tug cluster
// (or a second node) started on the same machine with the same defaults is
// refused at start, naming the owner and the flag to change, instead of
// sharing the first one's bridge and failing on its DNS address (the cluster
// DNS listens on the bridge gateway, the pod range's first address). Claims
// live next to the engines' network lock (/run/tug-locks): one JSON file per
// running node, written under that host-wide lock; a claim whose process died
// (kill -9) is stale and taken over, and a restart of the same node (same data
// dir) is always accepted. A server's NodePort range is claimed too: its
// service proxy answers those ports on every address of the machine. "Machine" means network namespace: nodes that each
// have their own (the one-machine multi-node topology) share no bridge or route.
import { mkdir, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { invalid } from '../errdefs.js';
import { withHostLock } from '../network/host-lock.js';
import { cidrsOverlap, parseCidr } from '../network/cidr.js';
import { writeJsonAtomic } from '../util/atomic-file.js';
import { processAlive } from '../util/process-alive.js';
import { bridgeGatewayIp } from './dns/kube-dns-service.js';

// Not the lock's own directory (withHostLock removes that when it ends).
const claimsDir = '/run/tug-locks/node-claims.d';

export interface NodeClaim {
  pid: number;
  /** `tug server` or `tug agent`: who to name in a refusal. */
  command: string;
  dataDir: string;
  bridge: string;
  /** The node's pod range, when known at start (an agent without --pod-cidr learns it from the node IPAM later). */
  podCidr?: string;
  /** The network namespace the node's bridge lives in (/proc/self/ns/net): nodes in different ones (one machine's netns-nodes) share no bridge or route. */
  netns?: string;
  /** The flag that sets podCidr, named in a refusal (default --pod-cidr; a server's is --cluster-cidr). */
  rangeFlag?: string;
  /** The NodePorts this node's service proxy serves on every address of the machine (--service-node-port-range of a server or agent). */
  nodePortRange?: [number, number];
  /** The cluster the node belongs to (its CA's hash, once known): nodes of one cluster serve the same NodePorts and may share a range. */
  cluster?: string;
}

export interface HeldClaim {
  /** Adds to the claim (a range known only later, the cluster once its CA is), checked against the live claims again; throws on a conflict. */
  extend(more: Pick<NodeClaim, 'nodePortRange' | 'cluster'>): Promise<void>;
  release(): Promise<void>;
}

function owner(c: NodeClaim): string {
  return `${c.command}, pid ${c.pid}, data dir ${c.dataDir}`;
}

/** The first conflict between a new claim and the live ones, as the message to refuse with. */
export function conflictOf(mine: Omit<NodeClaim, 'pid'>, others: NodeClaim[]): string | undefined {
  for (const c of others) {
    if (resolve(c.dataDir) === resolve(mine.dataDir)) continue;
    if (c.netns && mine.netns && c.netns !== mine.netns) continue;
    if (c.bridge === mine.bridge) {
      return `the pod bridge ${mine.bridge} is already used by another tug node on this machine (${owner(c)}): give this one another --node-bridge (and its own --pod-cidr), or stop the other one`;
    }
    if (c.podCidr && mine.podCidr && cidrsOverlap(parseCidr(c.podCidr), parseCidr(mine.podCidr))) {
      return `the pod range ${mine.podCidr} (and the cluster DNS address ${bridgeGatewayIp(mine.podCidr)} on it) overlaps ${c.podCidr} of another tug node on this machine (${owner(c)}): give this one another ${mine.rangeFlag ?? '--pod-cidr'}, or stop the other one`;
    }
    const [lo, hi] = mine.nodePortRange ?? [0, -1];
    const sameCluster = !!c.cluster && c.cluster === mine.cluster;
    if (c.nodePortRange && !sameCluster && lo <= c.nodePortRange[1] && c.nodePortRange[0] <= hi) {
      return `the NodePort range ${lo}-${hi} overlaps ${c.nodePortRange[0]}-${c.nodePortRange[1]} of another tug node on this machine (${owner(c)}), whose service proxy answers on those ports on every address: give this one another --service-node-port-range, or stop the other one`;
    }
  }
  return undefined;
}

/** Claims the bridge and pod range for this process, or throws an invalid error naming the other owner and the flag to change. */
export async function claimNodeResources(mine: Omit<NodeClaim, 'pid' | 'netns'>): Promise<HeldClaim> {
  if (mine.podCidr) parseCidr(mine.podCidr);
  const file = join(claimsDir, `${process.pid}.json`);
  let current: Omit<NodeClaim, 'pid' | 'netns'> = mine;
  await writeClaim(file, current);
  return {
    async extend(more) {
      const next = { ...current, ...more };
      await writeClaim(file, next);
      current = next;
    },
    release: () => rm(file, { force: true }),
  };
}

/** Checks `mine` against every live claim but this process's own, and writes it, under the host-wide lock. */
async function writeClaim(file: string, mine: Omit<NodeClaim, 'pid' | 'netns'>): Promise<void> {
  await withHostLock('node-claims', async () => {
    await mkdir(claimsDir, { recursive: true, mode: 0o700 });
    const live: NodeClaim[] = [];
    for (const name of await readdir(claimsDir)) {
      const path = join(claimsDir, name);
      const c = JSON.parse(await readFile(path, 'utf8').catch(() => 'null')) as NodeClaim | null;
      if (!c || !processAlive(c.pid) || c.pid === process.pid) await rm(path, { force: true });
      else live.push(c);
    }
    const netns = await readlink('/proc/self/ns/net').catch(() => undefined);
    const conflict = conflictOf({ ...mine, netns }, live);
    if (conflict) throw invalid(conflict);
    await writeJsonAtomic(file, { ...mine, netns, dataDir: resolve(mine.dataDir), pid: process.pid } satisfies NodeClaim);
  });
}
