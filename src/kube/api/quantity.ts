// Kubernetes resource quantities ("100m", "1.5Gi", "2k", "1e3") as numbers,
// enough for quota arithmetic, and back to a canonical-ish string.
const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimal: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

export function parseQuantity(q: string | number | undefined): number | undefined {
  if (q === undefined || q === null) return undefined;
  if (typeof q === 'number') return q;
  const m = String(q).trim().match(/^([+-]?\d*\.?\d+(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/);
  if (!m) return undefined;
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  return n * (binary[suffix] ?? decimal[suffix] ?? 1);
}

/** Renders like Kubernetes would for the common cases: cpu in millicores when fractional, bytes in Mi/Gi when exact. */
export function formatQuantity(resource: string, v: number): string {
  if (resource.includes('cpu')) {
    return Number.isInteger(v) ? String(v) : `${Math.round(v * 1000)}m`;
  }
  if (resource.includes('memory') || resource.includes('storage')) {
    for (const [s, f] of [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) if (v >= f && v % f === 0) return `${v / f}${s}`;
  }
  return String(Math.round(v * 1000) / 1000);
}
