// A time plot (uPlot: ~45 kB, canvas, made for streaming series) that
// follows its data: created once, then fed with setData on each new point.
// One series, or two on one axis (received and sent, say).
import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface PlotProps {
  title: string;
  t: number[];
  values: number[];
  unit: (v: number) => string;
  /** A second series on the same axis, and the names of both in the legend. */
  second?: { label: string; values: number[]; firstLabel: string };
}

export function Plot({ title, t, values, unit, second }: PlotProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const two = second !== undefined;
  useEffect(() => {
    const value = (_u: uPlot, v: number | null): string => (v == null ? '—' : unit(v));
    const opts: uPlot.Options = {
      width: 420,
      height: 160,
      title: two ? title : undefined,
      series: [{}, { label: two ? second.firstLabel : title, stroke: '#2a7ae2', fill: 'rgba(42,122,226,0.12)', value }, ...(two ? [{ label: second.label, stroke: '#bf3989', value }] : [])],
      axes: [{}, { values: (_u, ticks) => ticks.map(unit), size: 70 }],
      legend: { show: true },
    };
    plot.current = new uPlot(opts, two ? [[], [], []] : [[], []], box.current!);
    return () => plot.current?.destroy();
  }, [title, two]);
  useEffect(() => {
    plot.current?.setData(second ? [t, values, second.values] : [t, values]);
  }, [t, values, second?.values]);
  // The largest value shown, for tests and for anyone reading the page's DOM.
  let max = 0;
  for (const v of values) if (v > max) max = v;
  for (const v of second?.values ?? []) if (v > max) max = v;
  return html`<figure class="plot" data-points=${values.length} data-max=${max} data-title=${title}><div ref=${box}></div></figure>`;
}
