// The subset of kubectl JSONPath that CRD additionalPrinterColumns use:
// .a.b, .a[0], .a[*].b and .a[?(@.type=="Ready")].status.
export function evalJsonPath(o: unknown, path: string): unknown[] {
  const p = path.trim().replace(/^\{|\}$/g, '').replace(/^\$/, '');
  const tokens = p.match(/\.[^.[\]]+|\[[^\]]*\]/g) ?? [];
  let cur: unknown[] = [o];
  for (const tok of tokens) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === null || v === undefined) continue;
      if (tok.startsWith('.')) {
        const k = tok.slice(1);
        if (typeof v === 'object' && k in (v as Record<string, unknown>)) next.push((v as Record<string, unknown>)[k]);
      } else {
        const inner = tok.slice(1, -1);
        if (!Array.isArray(v)) continue;
        if (inner === '*') next.push(...v);
        else if (/^-?\d+$/.test(inner)) {
          const i = Number(inner);
          const item = v[i < 0 ? v.length + i : i];
          if (item !== undefined) next.push(item);
        } else {
          const m = inner.match(/^\?\(@\.([\w.-]+)\s*==\s*["']?([^"')]*)["']?\)$/);
          if (m) next.push(...v.filter((x) => String(m[1].split('.').reduce((a: any, k) => a?.[k], x)) === m[2]));
        }
      }
    }
    cur = next;
  }
  return cur;
}
