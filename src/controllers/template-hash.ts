// The pod-template-hash label: a short stable hash of a Deployment's pod
// template (FNV-1a 32 over canonical JSON, in Kubernetes' "safe" alphabet so
// it never spells words), and template equality that ignores that label, which
// is how `kubectl rollout undo` (it copies an old ReplicaSet's template back)
// finds the old ReplicaSet again.
export const hashLabel = 'pod-template-hash';

export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      // Absent, null and empty are the same template (defaulting may write either).
      .filter(([, x]) => x !== undefined && x !== null && !(typeof x === 'object' && Object.keys(x as object).length === 0))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

export function templateHash(template: unknown, collisionCount = 0): string {
  let h = 0x811c9dc5;
  const s = canonicalJson(withoutHash(template)) + (collisionCount ? String(collisionCount) : '');
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [...String(h)].map((c) => safeAlphabet[c.charCodeAt(0) % safeAlphabet.length]).join('').slice(0, 10);
}

function withoutHash(template: any): unknown {
  if (!template?.metadata?.labels?.[hashLabel]) return template ?? {};
  const labels = { ...template.metadata.labels };
  delete labels[hashLabel];
  return { ...template, metadata: { ...template.metadata, labels } };
}

export function templatesEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(withoutHash(a)) === canonicalJson(withoutHash(b));
}
