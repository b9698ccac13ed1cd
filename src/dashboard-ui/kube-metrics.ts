// Series the cluster views plot from Prometheus text, polled: a node's and a
// pod's network (the node agent's cAdvisor metrics, through the dashboard's
// /api/node-metrics/NODE, since metrics.k8s.io carries no network) and the API
// server's request rate and mean latency (its own /metrics, read with the
// user's token: a user without the system:monitoring rights gets the 403).
import { useEffect, useState } from 'preact/hooks';
import { getText, type ApiError } from './api.js';
import { poll } from './kube-live.js';
import { parseProm, total, rate, type Sample } from './prom-text.js';

/** Points kept: five minutes at one every two seconds. */
const KEEP = 150;

export interface RateSeries {
  t: number[];
  a: number[];
  b: number[];
  error?: ApiError;
}

/**
 * Polls path (Prometheus text) every periodMs and keeps two rates computed
 * from consecutive scrapes by step(before, after, seconds). The first scrape
 * only sets the baseline.
 */
function useRates(path: string | undefined, periodMs: number, wanted: (name: string) => boolean, step: (before: Sample[], after: Sample[], seconds: number) => [number, number]): RateSeries {
  const [series, setSeries] = useState<RateSeries>({ t: [], a: [], b: [] });
  useEffect(() => {
    if (!path) return;
    let last: { at: number; samples: Sample[] } | undefined;
    return poll(
      () => getText(path),
      periodMs,
      (text) => {
        const now = Date.now() / 1000;
        const samples = parseProm(text, wanted);
        if (last) {
          const [a, b] = step(last.samples, samples, now - last.at);
          setSeries((o) => ({ t: [...o.t, now].slice(-KEEP), a: [...o.a, a].slice(-KEEP), b: [...o.b, b].slice(-KEEP) }));
        }
        last = { at: now, samples };
      },
      (error) => setSeries((o) => ({ ...o, error })),
    );
  }, [path, periodMs]);
  return series;
}

const RX = 'container_network_receive_bytes_total';
const TX = 'container_network_transmit_bytes_total';
const isNetwork = (n: string): boolean => n === RX || n === TX;

/** Receive (a) and transmit (b) bytes per second of a node (its own interfaces: cAdvisor's id="/"), or of one of its pods. */
export function useNetworkRates(node: string | undefined, pod?: { namespace: string; name: string }): RateSeries {
  const match = pod ? (l: Record<string, string>) => l.namespace === pod.namespace && l.pod === pod.name : (l: Record<string, string>) => l.id === '/';
  return useRates(node ? `/api/node-metrics/${encodeURIComponent(node)}` : undefined, 2000, isNetwork, (before, after, secs) => [rate(total(before, RX, match), total(after, RX, match), secs), rate(total(before, TX, match), total(after, TX, match), secs)]);
}

const REQUESTS = 'apiserver_request_total';
const DURATION_SUM = 'apiserver_request_duration_seconds_sum';
const DURATION_COUNT = 'apiserver_request_duration_seconds_count';
/** Watches last as long as the client keeps them: their duration is not a latency (kube-apiserver's SLO metrics leave them out too). */
const notWatch = (l: Record<string, string>): boolean => l.verb !== 'WATCH' && l.verb !== 'CONNECT';

/** The API server's requests per second (a) and mean request latency in seconds (b, watches left out), between scrapes. */
export function useApiServerRates(): RateSeries {
  return useRates('/api/kube/metrics', 3000, (n) => n === REQUESTS || n === DURATION_SUM || n === DURATION_COUNT, (before, after, secs) => {
    const requests = rate(total(before, REQUESTS), total(after, REQUESTS), secs);
    const n = total(after, DURATION_COUNT, notWatch) - total(before, DURATION_COUNT, notWatch);
    const s = total(after, DURATION_SUM, notWatch) - total(before, DURATION_SUM, notWatch);
    return [requests, n > 0 && s >= 0 ? s / n : 0];
  });
}
