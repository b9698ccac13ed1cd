// The node's own address (its InternalIP, where its streaming endpoint listens
// and where other nodes send its pods' traffic): the source address of the
// route this node uses to reach the API server, as a kubelet's and flannel's
// default is the interface of the route to the outside. A server on loopback
// (the embedded agent) says nothing about the network, so then the default
// route's interface decides. --node-ip overrides both.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { invalid } from '../../errdefs.js';
import { runTool } from '../../util/exec-file.js';

export interface NodeAddress {
  ip: string;
  /** The interface that carries it (the VXLAN device's underlay, host-gw routes' device). */
  dev: string;
  mtu: number;
}

interface IpAddrEntry {
  ifname: string;
  mtu: number;
  addr_info?: Array<{ family: string; local: string }>;
}

async function addressTable(): Promise<IpAddrEntry[]> {
  return JSON.parse((await runTool('ip', ['-j', '-4', 'addr', 'show'])).stdout) as IpAddrEntry[];
}

/** The interface holding `ip` here, or undefined. */
export async function interfaceOf(ip: string): Promise<NodeAddress | undefined> {
  for (const e of await addressTable()) {
    if (e.addr_info?.some((a) => a.family === 'inet' && a.local === ip)) return { ip, dev: e.ifname, mtu: e.mtu };
  }
  return undefined;
}

/** `ip route get DEST`: the source address and device this host would use. */
async function routeSource(dest: string): Promise<{ src: string; dev: string } | undefined> {
  const r = await runTool('ip', ['-j', 'route', 'get', dest], { allowFailure: true });
  if (r.code !== 0) return undefined;
  const first = (JSON.parse(r.stdout) as Array<{ prefsrc?: string; dev?: string }>)[0];
  return first?.prefsrc && first.dev ? { src: first.prefsrc, dev: first.dev } : undefined;
}

async function defaultRouteSource(): Promise<{ src: string; dev: string } | undefined> {
  const r = await runTool('ip', ['-j', '-4', 'route', 'show', 'default'], { allowFailure: true });
  const dev = r.code === 0 ? (JSON.parse(r.stdout || '[]') as Array<{ dev?: string }>)[0]?.dev : undefined;
  if (!dev) return undefined;
  const e = (await addressTable()).find((x) => x.ifname === dev);
  const src = e?.addr_info?.find((a) => a.family === 'inet')?.local;
  return src ? { src, dev } : undefined;
}

/**
 * The node's address: --node-ip if given (it must be on one of this host's
 * interfaces), else the source of the route to the API server, else that of
 * the default route, else loopback (a machine with no network: one node).
 */
export async function detectNodeAddress(serverUrl: string, explicit?: string): Promise<NodeAddress> {
  if (explicit) {
    if (isIP(explicit) !== 4) throw invalid(`--node-ip "${explicit}" is not an IPv4 address`);
    const found = await interfaceOf(explicit);
    if (!found) throw invalid(`--node-ip ${explicit} is not an address of any interface on this host`);
    return found;
  }
  const host = new URL(serverUrl).hostname.replace(/^\[|\]$/g, '');
  const serverIp = isIP(host) ? host : (await lookup(host, { family: 4 }).catch(() => undefined))?.address;
  const viaServer = serverIp && !serverIp.startsWith('127.') ? await routeSource(serverIp) : undefined;
  const chosen = (viaServer && viaServer.dev !== 'lo' ? viaServer : undefined) ?? (await defaultRouteSource());
  if (chosen) return (await interfaceOf(chosen.src)) ?? { ip: chosen.src, dev: chosen.dev, mtu: 1500 };
  return { ip: '127.0.0.1', dev: 'lo', mtu: 65536 };
}
