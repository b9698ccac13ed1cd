// Live engine state for the views: the container list kept current from the
// Docker events stream (one list call, then a per-container refresh on each
// event, never a reload of the whole list), and per-container resource series
// from the stats stream.
import { rate } from './prom-text.js';
import { useEffect, useState } from 'preact/hooks';
import { get, keepStreaming, streamJson, ApiError } from './api.js';
import { SortedItems, oncePerFrame } from './sorted-items.js';

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  State: string;
  Status: string;
  Created: number;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  Labels: Record<string, string>;
}

export interface LiveList<T> {
  items: T[];
  error?: ApiError;
  loaded: boolean;
}

const newestFirst = (a: ContainerSummary, b: ContainerSummary): number => b.Created - a.Created;

const summaryOf = async (id: string): Promise<ContainerSummary | undefined> => {
  const list = await get<ContainerSummary[]>(`/api/engine/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ id: [id] }))}`);
  return list[0];
};

export function useContainers(): LiveList<ContainerSummary> {
  const [state, setState] = useState<LiveList<ContainerSummary>>({ items: [], loaded: false });
  useEffect(() => {
    const byId = new SortedItems<ContainerSummary>((c) => c.Id, newestFirst);
    const publish = (): void => setState({ items: byId.items(), loaded: true });
    // Events that come together (a compose project starting) become one render in the next frame.
    const batch = oncePerFrame(publish);
    // Events are subscribed first, then the list is read: nothing falls between the two.
    const since = Math.floor(Date.now() / 1000) - 1;
    const refresh = async (id: string, gone: boolean): Promise<void> => {
      const s = gone ? undefined : await summaryOf(id).catch(() => undefined);
      if (s) byId.set(s);
      else byId.delete(id);
      batch.soon();
    };
    let listed = false;
    const queued: { id: string; gone: boolean }[] = [];
    const stop = keepStreaming(
      (signal) =>
        streamJson(
          `/api/engine/events?since=${since}&filters=${encodeURIComponent(JSON.stringify({ type: ['container'] }))}`,
          (e: { id?: string; Action?: string; Actor?: { ID?: string } }) => {
            const id = e.id ?? e.Actor?.ID;
            if (!id || e.Action?.startsWith('exec_')) return;
            const gone = e.Action === 'destroy';
            if (listed) void refresh(id, gone);
            else queued.push({ id, gone });
          },
          signal,
        ),
      (e) => setState((s) => ({ ...s, error: e instanceof ApiError ? e : new ApiError(0, String(e)) })),
    );
    get<ContainerSummary[]>('/api/engine/containers/json?all=1')
      .then((list) => {
        byId.reset(list);
        listed = true;
        publish();
        for (const q of queued.splice(0)) void refresh(q.id, q.gone);
      })
      .catch((e) => setState({ items: [], loaded: true, error: e instanceof ApiError ? e : new ApiError(0, String(e)) }));
    return () => {
      stop();
      batch.cancel();
    };
  }, []);
  return state;
}

export interface Series {
  t: number[];
  cpu: number[];
  mem: number[];
}

const WINDOW_S = 300;

/** One stats sample as docker stats computes it: CPU percent (of one CPU × CPUs) and memory without the page cache. */
function sampleOf(st: any): { cpu: number; mem: number } {
  const cpuDelta = (st.cpu_stats?.cpu_usage?.total_usage ?? 0) - (st.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sysDelta = (st.cpu_stats?.system_cpu_usage ?? 0) - (st.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = st.cpu_stats?.online_cpus || 1;
  const cpu = sysDelta > 0 && cpuDelta >= 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0;
  return { cpu, mem: Math.max(0, (st.memory_stats?.usage ?? 0) - (st.memory_stats?.stats?.inactive_file ?? 0)) };
}

/** The last values of many containers' stats over one connection (/api/engine-stats), for a list's sparklines. */
export function useStatsOfMany(ids: string[]): Map<string, { cpu: number[]; mem: number[] }> {
  const [series, setSeries] = useState(new Map<string, { cpu: number[]; mem: number[] }>());
  const key = [...ids].sort().join(',');
  useEffect(() => {
    if (!key) return;
    const m = new Map<string, { cpu: number[]; mem: number[] }>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = keepStreaming(
      (signal) =>
        streamJson(
          `/api/engine-stats?${key.split(',').map((id) => `id=${id}`).join('&')}`,
          (v: { id: string; stats: any }) => {
            const s = m.get(v.id) ?? { cpu: [], mem: [] };
            const x = sampleOf(v.stats);
            // A new object per sample: a row draws again only when its series is another object.
            m.set(v.id, { cpu: [...s.cpu, x.cpu].slice(-40), mem: [...s.mem, x.mem].slice(-40) });
            // One render per burst of samples, not one per container.
            timer ??= setTimeout(() => {
              timer = undefined;
              setSeries(new Map(m));
            }, 200);
          },
          signal,
        ),
      () => undefined,
    );
    return () => {
      stop();
      if (timer) clearTimeout(timer);
    };
  }, [key]);
  return series;
}

/** Bytes received and sent over all of a container's interfaces so far (the stats' networks). */
function networkTotals(st: any): { rx: number; tx: number } | undefined {
  const nets = st.networks as Record<string, { rx_bytes?: number; tx_bytes?: number }> | undefined;
  if (!nets) return undefined;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(nets)) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  return { rx, tx };
}

export interface ContainerSeries extends Series {
  /** Network receive and transmit rates, bytes per second, from one sample to the next. */
  rx: number[];
  tx: number[];
}

/** CPU (percent of one CPU × CPUs, as docker stats shows), memory and network rates from a container's stats stream, the last five minutes. */
export function useStats(id: string | undefined, running: boolean): ContainerSeries {
  const [series, setSeries] = useState<ContainerSeries>({ t: [], cpu: [], mem: [], rx: [], tx: [] });
  useEffect(() => {
    if (!id || !running) return;
    const s: ContainerSeries = { t: [], cpu: [], mem: [], rx: [], tx: [] };
    let last: { at: number; rx: number; tx: number } | undefined;
    const stop = keepStreaming(
      (signal) =>
        streamJson(
          `/api/engine/containers/${id}/stats?stream=1`,
          (st: any) => {
            const { cpu, mem } = sampleOf(st);
            const now = Date.now() / 1000;
            const net = networkTotals(st);
            const secs = last ? now - last.at : 0;
            s.t.push(now);
            s.cpu.push(cpu);
            s.mem.push(Math.max(0, mem));
            s.rx.push(net && last ? rate(last.rx, net.rx, secs) : 0);
            s.tx.push(net && last ? rate(last.tx, net.tx, secs) : 0);
            if (net) last = { at: now, ...net };
            while (s.t.length && s.t[0]! < now - WINDOW_S) {
              s.t.shift();
              s.cpu.shift();
              s.mem.shift();
              s.rx.shift();
              s.tx.shift();
            }
            setSeries({ t: [...s.t], cpu: [...s.cpu], mem: [...s.mem], rx: [...s.rx], tx: [...s.tx] });
          },
          signal,
        ),
      () => undefined,
    );
    return stop;
  }, [id, running]);
  return series;
}
