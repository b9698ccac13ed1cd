// The API server's own Prometheus series, named and labelled as
// kube-apiserver's (k8s.io/apiserver/pkg/endpoints/metrics and
// storage/etcd3/metrics), so dashboards built for it read these:
//   apiserver_request_total{verb,dry_run,group,version,resource,subresource,scope,component,code}
//   apiserver_request_duration_seconds{verb,dry_run,group,version,resource,subresource,scope,component}
//   apiserver_longrunning_requests{verb,group,version,resource,subresource,scope,component}   (open watches)
//   etcd_request_duration_seconds{operation,type}   (every storage call, SQLite or etcd)
// Verbs are kube-apiserver's: GET, LIST, WATCH, POST, PUT, PATCH, APPLY, DELETE,
// DELETECOLLECTION, CONNECT (uppercase, unlike RBAC's).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from './storage/store.js';
import { secondsSince } from '../util/metrics-registry.js';

export const apiserverRegistry = new Registry();

const requestLabels = ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const;

const requests = new Counter({
  name: 'apiserver_request_total',
  help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
  labelNames: [...requestLabels, 'code'],
  registers: [apiserverRegistry],
});

const duration = new Histogram({
  name: 'apiserver_request_duration_seconds',
  help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
  labelNames: requestLabels,
  // kube-apiserver's buckets.
  buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
  registers: [apiserverRegistry],
});

const longRunning = new Gauge({
  name: 'apiserver_longrunning_requests',
  help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.',
  labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'],
  registers: [apiserverRegistry],
});

const storageDuration = new Histogram({
  name: 'etcd_request_duration_seconds',
  help: 'Etcd request latency in seconds for each operation and object type.',
  labelNames: ['operation', 'type'],
  buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
  registers: [apiserverRegistry],
});

/** What one request is, filled in as the router learns it (a non-resource request keeps the empty defaults). */
export interface RequestInfo {
  verb: string;
  dryRun: boolean;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  scope: '' | 'resource' | 'namespace' | 'cluster';
  longRunning: boolean;
}

export function newRequestInfo(method: string): RequestInfo {
  return { verb: method, dryRun: false, group: '', version: '', resource: '', subresource: '', scope: '', longRunning: false };
}

/** RBAC's verb and the HTTP method -> kube-apiserver's metric verb. */
export function metricVerb(rbacVerb: string, method: string, applyPatch: boolean): string {
  if (rbacVerb === 'list' || rbacVerb === 'watch' || rbacVerb === 'deletecollection') return rbacVerb.toUpperCase();
  if (method === 'PATCH' && applyPatch) return 'APPLY';
  if (method === 'HEAD') return 'GET';
  return method;
}

function labelsOf(i: RequestInfo): Record<(typeof requestLabels)[number], string> {
  return { verb: i.verb, dry_run: i.dryRun ? 'All' : '', group: i.group, version: i.version, resource: i.resource, subresource: i.subresource, scope: i.scope, component: 'apiserver' };
}

/**
 * Starts timing a request; records it once the response ends (finish or a
 * dropped connection). A watch counts as long-running while it is open and is
 * left out of the latency histogram, whose buckets are for short requests.
 */
export function recordRequest(res: { statusCode: number; once(ev: 'close', fn: () => void): unknown }, info: RequestInfo): void {
  const start = performance.now();
  res.once('close', () => {
    const labels = labelsOf(info);
    requests.inc({ ...labels, code: String(res.statusCode) });
    if (!info.longRunning) duration.observe(labels, secondsSince(start));
  });
}

/** Counts an open watch until the returned function is called. */
export function trackLongRunning(info: RequestInfo): () => void {
  const l = { verb: info.verb, group: info.group, version: info.version, resource: info.resource, subresource: info.subresource, scope: info.scope, component: 'apiserver' };
  longRunning.inc(l);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    longRunning.dec(l);
  };
}

/** /registry/pods/ns/name -> pods: the object type etcd_request_duration_seconds is broken out by. */
function typeOf(key: string): string {
  const segs = key.split('/');
  return (segs[1] === 'registry' ? segs[2] : segs[1]) ?? '';
}

/** The store with every call timed into etcd_request_duration_seconds (operation as kube-apiserver names it). */
export function instrumentStore(store: Store): Store {
  const timed = async <T>(operation: string, key: string, call: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await call();
    } finally {
      storageDuration.observe({ operation, type: typeOf(key) }, secondsSince(start));
    }
  };
  return {
    get: (key) => timed('get', key, () => store.get(key)),
    list: (prefix, opts) => timed('listWithCount', prefix, () => store.list(prefix, opts)),
    count: (prefix) => timed('count', prefix, () => store.count(prefix)),
    create: (key, value) => timed('create', key, () => store.create(key, value)),
    update: (key, value, rev) => timed('update', key, () => store.update(key, value, rev)),
    delete: (key, rev) => timed('delete', key, () => store.delete(key, rev)),
    watch: (prefix, from, onEvent, onError) => store.watch(prefix, from, onEvent, onError),
    currentRevision: () => store.currentRevision(),
    compact: (revision) => store.compact(revision),
    close: () => store.close(),
  };
}
