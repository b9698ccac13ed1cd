// The NodePort range (--service-node-port-range of tug server and tug agent):
// the server allocates Services' NodePorts from it, and every node claims it
// on its machine (node/host-claims.ts) because its service proxy answers
// those ports on every address there.
import { invalid } from '../../errdefs.js';

export const DEFAULT_NODE_PORT_RANGE: [number, number] = [30000, 32767];

/** LOW-HIGH, or LOW+COUNT (kube-apiserver accepts both). */
export function parseNodePortRange(v: string): [number, number] {
  const m = /^(\d+)\s*([-+])\s*(\d+)$/.exec(v.trim());
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? (m[2] === '-' ? Number(m[3]) : lo + Number(m[3]) - 1) : NaN;
  if (!(lo >= 1 && hi <= 65535 && lo <= hi)) throw invalid(`--service-node-port-range "${v}" is not a port range such as 30000-32767`);
  return [lo, hi];
}
