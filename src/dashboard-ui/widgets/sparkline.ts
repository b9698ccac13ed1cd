// A sparkline: the last values of a series as one SVG polyline, cheap enough
// to draw for every row of a list on each stats tick.
import { html } from 'htm/preact';

export function Sparkline({ values, label, format }: { values: number[]; label: string; format: (v: number) => string }) {
  const w = 80;
  const h = 18;
  const last = values.slice(-40);
  if (last.length < 2) return html`<span class="spark muted" title=${label}>—</span>`;
  const max = Math.max(...last, 1e-9);
  const pts = last.map((v, i) => `${((i / (last.length - 1)) * w).toFixed(1)},${(h - (v / max) * (h - 2) - 1).toFixed(1)}`).join(' ');
  return html`<span class="spark" title=${label}><svg width=${w} height=${h} viewBox=${`0 0 ${w} ${h}`} aria-hidden="true"><polyline points=${pts} fill="none" stroke="currentColor" stroke-width="1.5" /></svg> ${format(last[last.length - 1]!)}</span>`;
}
