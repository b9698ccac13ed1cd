// The node's VXLAN tunnel endpoint, as flannel's vxlan backend makes it: the
// kernel's vxlan device (VNI 1, UDP 8472, no learning: every peer is told
// explicitly), holding this node's pod range's network address as a /32 (the
// "VTEP address" other nodes route to), and an MTU 50 bytes below the
// underlay's (the VXLAN + UDP + IP + Ethernet headers). Its MAC is derived
// from the node name, so a restarted agent keeps the MAC other nodes were told.
import { createHash } from 'node:crypto';
import { numberToIp, parseCidr } from '../../network/cidr.js';
import { runTool } from '../../util/exec-file.js';

export const VXLAN_DEVICE = 'tug.vxlan';
export const VXLAN_VNI = 1;
export const VXLAN_PORT = 8472;
/** Outer Ethernet (14) + IP (20) + UDP (8) + VXLAN (8) headers. */
export const VXLAN_OVERHEAD = 50;

/** A locally administered unicast MAC, the same for the same node name. */
export function vtepMac(nodeName: string): string {
  const h = createHash('sha256').update(`tug-vtep/${nodeName}`).digest();
  h[0] = (h[0]! & 0xfe) | 0x02;
  return [...h.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The address of a node's VTEP: its pod range's network address (flannel's choice). */
export function vtepAddress(podCidr: string): string {
  return numberToIp(parseCidr(podCidr).base);
}

interface LinkDetails {
  address?: string;
  mtu?: number;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string; port?: number; link?: string } };
}

async function details(dev: string): Promise<LinkDetails | undefined> {
  const r = await runTool('ip', ['-j', '-d', 'link', 'show', 'dev', dev], { allowFailure: true });
  return r.code === 0 ? (JSON.parse(r.stdout) as LinkDetails[])[0] : undefined;
}

export interface VtepConfig {
  nodeName: string;
  /** This node's address (the tunnel's outer source). */
  localIp: string;
  /** The underlay interface. */
  underlay: string;
  underlayMtu: number;
  podCidr: string;
}

/** Makes the device as `cfg` says (re-made when its VNI, port or local address differ); idempotent. */
export async function ensureVtep(cfg: VtepConfig): Promise<void> {
  const mac = vtepMac(cfg.nodeName);
  const mtu = cfg.underlayMtu - VXLAN_OVERHEAD;
  const cur = await details(VXLAN_DEVICE);
  const d = cur?.linkinfo?.info_data;
  const matches = cur?.linkinfo?.info_kind === 'vxlan' && d?.id === VXLAN_VNI && d?.local === cfg.localIp && d?.port === VXLAN_PORT;
  if (cur && !matches) await runTool('ip', ['link', 'del', VXLAN_DEVICE]);
  if (!matches) {
    const add = await runTool('ip', ['link', 'add', VXLAN_DEVICE, 'type', 'vxlan', 'id', String(VXLAN_VNI), 'local', cfg.localIp, 'dev', cfg.underlay, 'dstport', String(VXLAN_PORT), 'nolearning'], { allowFailure: true });
    if (add.code !== 0 && !/File exists/.test(add.stderr)) throw new Error(`ip link add ${VXLAN_DEVICE} type vxlan: ${add.stderr.trim()}`);
  }
  await runTool('ip', ['link', 'set', VXLAN_DEVICE, 'address', mac, 'mtu', String(mtu)]);
  await runTool('ip', ['addr', 'replace', `${vtepAddress(cfg.podCidr)}/32`, 'dev', VXLAN_DEVICE]);
  await runTool('ip', ['link', 'set', VXLAN_DEVICE, 'up']);
}

export async function vtepExists(): Promise<boolean> {
  return (await details(VXLAN_DEVICE)) !== undefined;
}

export async function removeVtep(): Promise<void> {
  await runTool('ip', ['link', 'del', VXLAN_DEVICE], { allowFailure: true });
}

/** One remote node as the tunnel knows it. */
export interface VxlanPeer {
  podCidr: string;
  mac: string;
  publicIp: string;
}

/**
 * Exactly these peers on the device: per peer a permanent neighbour (VTEP
 * address → MAC), an FDB entry (MAC → the peer's public IP) and the route
 * `podCIDR via VTEP-address dev tug.vxlan onlink`; anything else on the
 * device (a node that left or changed) is removed.
 */
export async function syncVxlanPeers(peers: VxlanPeer[]): Promise<void> {
  const want = new Map(peers.map((p) => [p.podCidr, p]));
  const routes = JSON.parse((await runTool('ip', ['-j', '-4', 'route', 'show', 'dev', VXLAN_DEVICE])).stdout || '[]') as Array<{ dst: string; gateway?: string }>;
  for (const r of routes) {
    const p = want.get(r.dst);
    if (!p || r.gateway !== vtepAddress(p.podCidr)) await runTool('ip', ['route', 'del', r.dst, 'dev', VXLAN_DEVICE], { allowFailure: true });
  }
  const neighs = JSON.parse((await runTool('ip', ['-j', '-4', 'neigh', 'show', 'dev', VXLAN_DEVICE])).stdout || '[]') as Array<{ dst: string; lladdr?: string }>;
  const wantNeigh = new Map(peers.map((p) => [vtepAddress(p.podCidr), p.mac]));
  for (const n of neighs) if (wantNeigh.get(n.dst) !== n.lladdr) await runTool('ip', ['neigh', 'del', n.dst, 'dev', VXLAN_DEVICE], { allowFailure: true });
  const fdb = JSON.parse((await runTool('bridge', ['-j', 'fdb', 'show', 'dev', VXLAN_DEVICE])).stdout || '[]') as Array<{ mac: string; dst?: string }>;
  const wantFdb = new Map(peers.map((p) => [p.mac, p.publicIp]));
  for (const f of fdb) {
    if (f.dst && wantFdb.get(f.mac) !== f.dst) await runTool('bridge', ['fdb', 'del', f.mac, 'dev', VXLAN_DEVICE, 'dst', f.dst, 'self'], { allowFailure: true });
  }
  for (const p of peers) {
    const vtep = vtepAddress(p.podCidr);
    await runTool('ip', ['neigh', 'replace', vtep, 'lladdr', p.mac, 'dev', VXLAN_DEVICE, 'nud', 'permanent']);
    await runTool('bridge', ['fdb', 'replace', p.mac, 'dev', VXLAN_DEVICE, 'dst', p.publicIp, 'self', 'permanent']);
    await runTool('ip', ['route', 'replace', p.podCidr, 'via', vtep, 'dev', VXLAN_DEVICE, 'onlink']);
  }
}
