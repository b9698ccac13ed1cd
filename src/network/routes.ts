// Does a subnet clash with a route the host already has? Used before a network
// claims a subnet, so tug never shadows the host's own networks (or Docker's,
// or another tug daemon's bridge).
import { runTool } from '../util/exec-file.js';
import { cidrsOverlap, parseCidr } from './cidr.js';

interface IpRoute {
  dst?: string;
}

export async function subnetOverlapsRoute(cidr: string): Promise<boolean> {
  const wanted = parseCidr(cidr);
  // All tables: policy-routed and local/broadcast entries are the host's too.
  const { stdout } = await runTool('ip', ['-j', '-4', 'route', 'show', 'table', 'all']);
  const routes = JSON.parse(stdout || '[]') as IpRoute[];
  for (const r of routes) {
    // The default route covers everything; it does not make a subnet unusable.
    if (!r.dst || r.dst === 'default' || r.dst === '0.0.0.0/0') continue;
    if (cidrsOverlap(wanted, parseCidr(r.dst))) return true;
  }
  return false;
}
