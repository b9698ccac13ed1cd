// A time plot (uPlot: ~45 kB, canvas, made for streaming series) that
// follows its data: created once, then fed with setData on each new point.
import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface PlotProps {
  title: string;
  t: number[];
  values: number[];
  unit: (v: number) => string;
}

export function Plot({ title, t, values, unit }: PlotProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const opts: uPlot.Options = {
      width: 420,
      height: 160,
      series: [{}, { label: title, stroke: '#2a7ae2', fill: 'rgba(42,122,226,0.12)', value: (_u, v) => (v == null ? '—' : unit(v)) }],
      axes: [{}, { values: (_u, ticks) => ticks.map(unit), size: 70 }],
      legend: { show: true },
    };
    plot.current = new uPlot(opts, [[], []], box.current!);
    return () => plot.current?.destroy();
  }, [title]);
  useEffect(() => {
    plot.current?.setData([t, values]);
  }, [t, values]);
  return html`<figure class="plot" data-points=${values.length} data-title=${title}><div ref=${box}></div></figure>`;
}
