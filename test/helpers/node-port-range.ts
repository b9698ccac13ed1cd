// Every test cluster with a node gets NodePorts of its own: a server claims its
// --service-node-port-range on the machine (src/node/host-claims.ts) and test
// files run side by side, so two clusters on Kubernetes' default range would
// refuse each other. A slice of 100 ports below the ephemeral range, drawn at
// random; a start that lost the draw to another live cluster draws again.
import { randomInt } from 'node:crypto';

export interface NodePortRange {
  low: number;
  high: number;
  /** `--service-node-port-range LOW-HIGH`. */
  flags: string[];
}

export function drawNodePortRange(): NodePortRange {
  const low = 20_000 + randomInt(0, 100) * 100;
  const high = low + 99;
  return { low, high, flags: ['--service-node-port-range', `${low}-${high}`] };
}

/** Did a server refuse to start because another live cluster holds an overlapping NodePort range? */
export function lostNodePortDraw(err: unknown): boolean {
  const m = err instanceof Error ? err.message : String(err);
  return /NodePort range .* overlaps/.test(m) && m.includes('--service-node-port-range');
}

/** Starts with a drawn range, drawing again (a few times) when another cluster holds an overlapping one. */
export async function withOwnNodePorts<T>(start: (range: NodePortRange) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(drawNodePortRange());
    } catch (err) {
      if (attempt >= 5 || !lostNodePortDraw(err)) throw err;
    }
  }
}
