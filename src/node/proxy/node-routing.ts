// Host routing a service proxy needs besides iptables: a route that keeps the
// service CIDR on the pod bridge (so a packet for a ClusterIP with no rule yet
// stays on this host instead of leaving by the default route), and
// route_localnet on the bridge so a NodePort reached on 127.0.0.1 may be
// DNATed to a pod (the kernel otherwise drops 127/8 sources off loopback).
import { writeFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { runTool } from '../../util/exec-file.js';

export async function bridgeExists(bridge: string): Promise<boolean> {
  return (await runTool('ip', ['link', 'show', 'dev', bridge], { allowFailure: true })).code === 0;
}

/** Adds `CIDR dev BRIDGE`; fine if it is there already. */
export async function addServiceRoute(serviceCidr: string, bridge: string): Promise<void> {
  const r = await runTool('ip', ['route', 'add', serviceCidr, 'dev', bridge, 'proto', 'static'], { allowFailure: true });
  if (r.code !== 0 && !/File exists/.test(r.stderr)) throw new Error(`ip route add ${serviceCidr} dev ${bridge}: ${r.stderr.trim()}`);
}

export async function removeServiceRoute(serviceCidr: string, bridge: string): Promise<void> {
  await runTool('ip', ['route', 'del', serviceCidr, 'dev', bridge], { allowFailure: true });
}

export async function enableRouteLocalnet(bridge: string): Promise<void> {
  await writeFile(`/proc/sys/net/ipv4/conf/${bridge}/route_localnet`, '1');
}

/** The first IPv4 address on the interface, or undefined. */
/** The device's first IPv4 address, read in-process (getifaddrs): cheap enough to poll. */
export function interfaceIpv4(dev: string): string | undefined {
  return networkInterfaces()[dev]?.find((a) => a.family === 'IPv4')?.address;
}
