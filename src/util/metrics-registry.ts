// The Prometheus side every daemon shares: prom-client registries, one per
// component (engine, registry, API server, scheduler, work queues, node agent),
// merged at scrape time into one text exposition. A component records into its
// own registry with prom-client's counters and histograms (an increment is a
// map lookup, cheap enough for every request); the process-wide series
// (process_*, nodejs_*) live in one registry that each main-thread endpoint
// adds once. Sources that are not a registry in this thread (the controllers'
// worker thread) hand over prom-client's JSON form, and AggregatorRegistry
// merges families of the same name, so no family appears twice in a scrape.
import type { ServerResponse } from 'node:http';
import { AggregatorRegistry, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** What one metric family looks like when it crosses a thread (prom-client's getMetricsAsJSON()). */
export type MetricFamilies = MetricObjectWithValues<MetricValue<string>>[];

/** A source of families for a scrape: a registry of this thread, or anything that can produce their JSON. */
export type MetricsSource = Registry | (() => Promise<MetricFamilies>);

/** text/plain; version=0.0.4; charset=utf-8: the exposition format every Prometheus reads. */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

let processRegistry: Registry | undefined;

/**
 * process_* and nodejs_* (CPU, resident memory, open fds, event-loop lag, heap,
 * GC): started on first use, once per process, so a thread that never serves
 * /metrics (the controllers' worker) pays nothing.
 */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** The text exposition of every source, families of one name merged. */
export async function metricsText(sources: MetricsSource[]): Promise<string> {
  const families = await Promise.all(sources.map((s) => (s instanceof Registry ? (s.getMetricsAsJSON() as Promise<MetricFamilies>) : s())));
  // aggregate() sums samples with equal labels; distinct components never share a label set.
  return AggregatorRegistry.aggregate(families).metrics();
}

/** Answers a scrape: 200 with the merged text, or 500 with why a source failed. */
export async function sendMetrics(res: ServerResponse, sources: MetricsSource[], head = false): Promise<void> {
  let body: string;
  try {
    body = await metricsText(sources);
  } catch (err) {
    const msg = `collecting metrics: ${err instanceof Error ? err.message : String(err)}\n`;
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(msg) });
    return void res.end(msg);
  }
  res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}

/** Seconds since start (from performance.now()), the unit Prometheus histograms use. */
export const secondsSince = (startMs: number): number => (performance.now() - startMs) / 1000;
