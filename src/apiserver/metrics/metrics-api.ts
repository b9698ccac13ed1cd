// metrics.k8s.io/v1beta1, served by the API server itself from its scraper's
// latest round (metrics-server serves the same group through aggregation):
//   GET /apis/metrics.k8s.io/v1beta1/nodes[/NAME]                 NodeMetrics
//   GET /apis/metrics.k8s.io/v1beta1/[namespaces/NS/]pods[/NAME]  PodMetrics
// get and list (label selectors on the nodes' / pods' labels, field
// selectors on metadata.name and metadata.namespace), JSON or Table, as
// metrics-server answers; no watch (metrics-server has none either). Objects
// are looked up in the store so names, labels and selectors are the real
// ones; an object without usage yet is left out of lists and is NotFound on
// get, with metrics-server's messages.
import type { KObject, ResourceType } from '../../kube/api/resource-type.js';
import { TugError } from '../../errdefs.js';
import { toTable, wantsTable, type IncludeObject } from '../table.js';
import type { ObjectStore } from '../object-store.js';
import type { MetricsScraper, Usage, PodUsage } from './metrics-scraper.js';
import { col, nameColumn } from '../../kube/api/meta.js';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const apiVersion = `${METRICS_GROUP}/${METRICS_VERSION}`;

/** The resources discovery lists for the group (discovery.ts), as metrics-server registers them. */
export const metricsResources = [
  { group: METRICS_GROUP, version: METRICS_VERSION, kind: 'NodeMetrics', plural: 'nodes', namespaced: false, verbs: ['get', 'list'] },
  { group: METRICS_GROUP, version: METRICS_VERSION, kind: 'PodMetrics', plural: 'pods', namespaced: true, verbs: ['get', 'list'] },
];

/** CPU as metrics-server writes it: nanocores. */
export const cpuQuantity = (nanoCores: number): string => `${Math.max(0, Math.round(nanoCores))}n`;
/** Memory as a binary quantity: Ki when whole, bytes otherwise. */
export const memoryQuantity = (bytes: number): string => {
  const b = Math.max(0, Math.round(bytes));
  return b % 1024 === 0 ? `${b / 1024}Ki` : String(b);
};

/** A metav1.Duration as Go prints it ("1.002s", "1m0.5s"). */
export function goDuration(ms: number): string {
  if (ms < 60_000) return `${+(ms / 1000).toFixed(9)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${+((ms - m * 60_000) / 1000).toFixed(9)}s`;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function usageColumns(): ResourceType['columns'] {
  return [
    nameColumn,
    col('CPU', (o) => o.usage?.cpu ?? o.containers?.map((c: { usage: { cpu: string } }) => c.usage.cpu).join(',') ?? ''),
    col('Memory', (o) => o.usage?.memory ?? o.containers?.map((c: { usage: { memory: string } }) => c.usage.memory).join(',') ?? ''),
    col('Window', (o) => o.window ?? ''),
  ];
}
/** Just enough of a ResourceType for the Table printer. */
const tableType = { columns: usageColumns() } as ResourceType;

function nodeMetrics(node: KObject, u: Usage): KObject {
  return {
    kind: 'NodeMetrics',
    apiVersion,
    metadata: { name: node.metadata!.name, creationTimestamp: iso(Date.now()), ...(node.metadata?.labels ? { labels: node.metadata.labels } : {}) },
    timestamp: iso(u.timestamp),
    window: goDuration(u.windowMs),
    usage: { cpu: cpuQuantity(u.cpuNanoCores), memory: memoryQuantity(u.memoryBytes) },
  };
}

function podMetrics(pod: KObject, u: PodUsage): KObject {
  return {
    kind: 'PodMetrics',
    apiVersion,
    metadata: { name: pod.metadata!.name, namespace: pod.metadata!.namespace, creationTimestamp: iso(Date.now()), ...(pod.metadata?.labels ? { labels: pod.metadata.labels } : {}) },
    timestamp: iso(u.timestamp),
    window: goDuration(u.windowMs),
    containers: u.containers.map((c) => ({ name: c.name, usage: { cpu: cpuQuantity(c.cpuNanoCores), memory: memoryQuantity(c.memoryBytes) } })),
  };
}

export interface MetricsRequest {
  method: string;
  plural: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  watch: boolean;
  query: URLSearchParams;
  accept?: string;
}

const notFoundResource = (): TugError => new TugError('not-found', 'the server could not find the requested resource', { reason: 'NotFound' });

/** The response body for one metrics.k8s.io request (the caller has authorized it). */
export async function serveMetrics(objects: ObjectStore, scraper: MetricsScraper, r: MetricsRequest): Promise<KObject> {
  const res = metricsResources.find((x) => x.plural === r.plural);
  if (!res || r.subresource || (r.namespace && !res.namespaced)) throw notFoundResource();
  if ((r.method !== 'GET' && r.method !== 'HEAD') || r.watch) throw new TugError('invalid', 'the server does not allow this method on the requested resource', { code: 405, reason: 'MethodNotAllowed' });
  await scraper.demand();
  const reg = objects.registry;
  const source = reg.lookup('', 'v1', res.plural)!;
  const table = wantsTable(r.accept);
  const include = (r.query.get('includeObject') as IncludeObject | null) ?? 'Metadata';
  const toMetrics = (o: KObject): KObject | undefined => {
    if (res.kind === 'NodeMetrics') {
      const u = scraper.node(o.metadata!.name!);
      return u && nodeMetrics(o, u);
    }
    const u = scraper.pod(o.metadata!.namespace!, o.metadata!.name!);
    return u && podMetrics(o, u);
  };
  if (r.name) {
    const o = await objects.getOrNull(source, r.namespace, r.name);
    const m = o && toMetrics(o);
    if (!m) {
      const what = res.kind === 'NodeMetrics' ? 'nodemetrics' : 'podmetrics';
      throw new TugError('not-found', `${what}.${METRICS_GROUP} "${r.name}" not found`, { reason: 'NotFound', details: { name: r.name, group: METRICS_GROUP, kind: res.plural } });
    }
    return table ? toTable(tableType, [m], include) : m;
  }
  const list = await objects.list(source, r.namespace, { labelSelector: r.query.get('labelSelector') ?? undefined, fieldSelector: r.query.get('fieldSelector') ?? undefined });
  const items = list.items.map(toMetrics).filter((m): m is KObject => Boolean(m));
  const metadata = { resourceVersion: '' };
  if (table) return toTable(tableType, items, include, metadata);
  return { kind: `${res.kind}List`, apiVersion, metadata, items };
}
