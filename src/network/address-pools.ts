// Docker's default address pools for networks created without --subnet:
// 172.17.0.0/16 to 172.31.0.0/16, then 192.168.0.0/16 in /20 slices. A pool
// is skipped when the daemon already uses it (its networks, its default
// bridge) or when any route on the host overlaps it (dockerd's networks,
// another tug daemon's bridges, the host's own LANs).
import { cidrsOverlap, formatCidr, parseCidr, type Cidr } from './cidr.js';
import { subnetOverlapsRoute } from './routes.js';

export function defaultPools(): Cidr[] {
  const out: Cidr[] = [];
  for (let b = 17; b <= 31; b++) out.push(parseCidr(`172.${b}.0.0/16`));
  for (let c = 0; c < 256; c += 16) out.push(parseCidr(`192.168.${c}.0/20`));
  return out;
}

/** The first default pool that overlaps neither `inUse` nor a host route; undefined when all are taken. */
export async function pickDefaultPool(inUse: Cidr[]): Promise<string | undefined> {
  for (const pool of defaultPools()) {
    if (inUse.some((u) => cidrsOverlap(u, pool))) continue;
    const s = formatCidr(pool);
    if (await subnetOverlapsRoute(s)) continue;
    return s;
  }
  return undefined;
}
