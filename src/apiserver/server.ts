// The HTTPS front of the Kubernetes-compatible API: authentication, routing,
// content negotiation (JSON, Table, aggregated discovery), then one call into
// ObjectStore per request. Watches stream newline-delimited JSON events.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TugError, isKind } from '../errdefs.js';
import type { ObjectStore, PatchType, FieldValidation, DeleteOptions, ApiWatchEvent } from './object-store.js';
import { apiVersionOf, type KObject, type ResourceType } from '../kube/api/resource-type.js';
import type { Authenticator } from './authn.js';
import type { UserInfo } from './user-info.js';
import { anonymousPaths } from './authn.js';
import type { Authorizer, Attributes } from './authorizer.js';
import { readBody, sendJson, sendError, sendText } from './http-io.js';
import { parseResourcePath, type ResourcePath } from './resource-path.js';
import * as discovery from './discovery.js';
import { openApiV2, openApiV2Protobuf, openApiV2ProtobufType, openApiV3, openApiV3Root, wantsOpenApiV2Protobuf } from './openapi.js';
import { toTable, wantsTable, wantsPartialMetadata, type IncludeObject } from './table.js';
import { badRequest, forbiddenError, methodNotAllowed, successStatus } from './status.js';
import { handleVirtual } from './reviews.js';
import { evictPod } from './eviction.js';
import type { KubeletClientTls } from './kubelet-client.js';
import { podProxySubresources, proxyPodSubresource, podProxyUpgrade } from './pod-proxy.js';
import { stampRequester } from './csr-requester.js';
import { checkNodePodRemoval, nodeWriteCheck } from './node-restriction.js';
import { checkExpiration, defaultAudience, tokenRequestResponse, type ServiceAccountTokens } from './service-account-tokens.js';
import { queryBool } from '../kube/api/query-params.js';
import { METRICS_GROUP, serveMetrics } from './metrics/metrics-api.js';
import type { MetricsScraper } from './metrics/metrics-scraper.js';
import { metricVerb, newRequestInfo, recordRequest, trackLongRunning, type RequestInfo } from './request-metrics.js';
import { sendMetrics, type MetricsSource } from '../util/metrics-registry.js';
import { watchLine } from './shared-watch-reads.js';
import { fieldSelectorName } from '../kube/api/selectors.js';

export interface ApiServerConfig {
  objects: ObjectStore;
  authn: Authenticator;
  authz: Authorizer;
  tls: { key: string; cert: string; ca: string };
  saTokens: ServiceAccountTokens;
  bind: string;
  port: number;
  /** How the pod proxy reaches node agents: the cluster CA and the kubelet-client certificate (kubelet-client.ts). */
  kubeletClient: KubeletClientTls;
  /** Serves metrics.k8s.io from the node agents' resource metrics (metrics/). */
  metrics?: MetricsScraper;
  /** What GET /metrics (Prometheus) merges: this server's registries and any added later (addMetricsSource). */
  prometheus?: MetricsSource[];
}

export const serverVersion = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-tug',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

export class ApiServer {
  private server?: Server;
  private readonly watches = new Set<() => void>();
  private cachedV2?: string;
  private readonly cachedV3 = new Map<string, string>();
  private cacheGeneration = -1;

  constructor(private readonly cfg: ApiServerConfig) {}

  /** Listens and resolves with the https:// URL actually bound. */
  async start(): Promise<string> {
    const server = createServer(
      { key: this.cfg.tls.key, cert: this.cfg.tls.cert, ca: this.cfg.tls.ca, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        this.handle(req, res).catch((err) => sendError(res, err));
      },
    );
    server.keepAliveTimeout = 65_000;
    server.on('upgrade', podProxyUpgrade(this.cfg)); // kubectl exec/attach (websocket) to the node agent
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.cfg.port, this.cfg.bind, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address === '0.0.0.0' ? '127.0.0.1' : addr.address;
    return `https://${host}:${addr.port}`;
  }

  async close(): Promise<void> {
    for (const stop of this.watches) stop();
    this.watches.clear();
    const s = this.server;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  /** Adds a source to GET /metrics (the controllers' worker thread adds its scheduler and work-queue series). */
  addMetricsSource(source: MetricsSource): void {
    (this.cfg.prometheus ??= []).push(source);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://x');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const info = newRequestInfo(req.method ?? 'GET');
    recordRequest(res, info);
    let user: UserInfo | null;
    try {
      user = await this.cfg.authn.authenticate(req);
    } catch (err) {
      return sendError(res, err);
    }
    if (!user) {
      if (anonymousPaths.has(path) || path.startsWith('/healthz/') || path.startsWith('/livez/') || path.startsWith('/readyz/')) return this.nonResource(req, res, path, url);
      return sendError(res, new TugError('unauthorized', 'Unauthorized'));
    }
    user = await this.impersonate(req, user);
    const segs = path.split('/').filter(Boolean);
    if ((segs[0] === 'api' && segs.length >= 3) || (segs[0] === 'apis' && segs.length >= 4)) {
      const rp = parseResourcePath(this.cfg.objects.registry, segs[0] === 'api', segs.slice(1));
      if (!rp) throw new TugError('not-found', 'the server could not find the requested resource', { reason: 'NotFound' });
      return this.resource(req, res, url, rp, user, info);
    }
    if (path === '/metrics') {
      // kube-apiserver: a non-resource URL, allowed by the system:monitoring ClusterRole (or cluster-admin).
      await this.authorize(user, { verb: 'get', group: '', resource: '', path });
      return sendMetrics(res, this.cfg.prometheus ?? [], req.method === 'HEAD');
    }
    return this.nonResource(req, res, path, url);
  }

  // ---- non-resource endpoints ----

  private nonResource(req: IncomingMessage, res: ServerResponse, path: string, url: URL): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    const reg = this.cfg.objects.registry;
    const accept = req.headers.accept;
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      if (url.searchParams.has('verbose')) return sendText(res, 200, `[+]ping ok\n[+]etcd ok\n${path.slice(1)} check passed\n`);
      return sendText(res, 200, 'ok');
    }
    if (/^\/(healthz|livez|readyz)\//.test(path)) return sendText(res, 200, 'ok');
    if (path === '/version') return sendJson(res, 200, serverVersion);
    if (path === '/api' || path === '/apis') {
      const agg = discovery.wantsAggregated(accept);
      if (agg) {
        return sendJson(res, 200, discovery.aggregatedDiscovery(reg, path === '/api', agg), `application/json;g=apidiscovery.k8s.io;v=${agg};as=APIGroupDiscoveryList`);
      }
      const host = req.headers.host ?? `127.0.0.1:${this.cfg.port}`;
      return sendJson(res, 200, path === '/api' ? discovery.apiVersions(host) : discovery.apiGroupList(reg));
    }
    const segs = path.split('/').filter(Boolean);
    if (segs[0] === 'api' && segs.length === 2 && segs[1] === 'v1') return sendJson(res, 200, discovery.apiResourceList(reg, '', 'v1'));
    if (segs[0] === 'apis' && segs.length === 2) {
      const g = discovery.apiGroup(reg, segs[1]);
      if (g) return sendJson(res, 200, g);
    }
    if (segs[0] === 'apis' && segs.length === 3 && discovery.hasGroupVersion(reg, segs[1], segs[2])) {
      return sendJson(res, 200, discovery.apiResourceList(reg, segs[1], segs[2]));
    }
    if (this.cacheGeneration !== reg.generation) {
      // Types changed (a CRD came or went): rebuild the OpenAPI documents.
      this.cachedV2 = undefined;
      this.cachedV3.clear();
      this.cacheGeneration = reg.generation;
    }
    if (path === '/openapi/v2' && wantsOpenApiV2Protobuf(req.headers.accept)) {
      const pb = openApiV2Protobuf(reg);
      res.writeHead(200, { 'Content-Type': openApiV2ProtobufType, 'Content-Length': String(pb.length) });
      return void res.end(pb);
    }
    if (path === '/openapi/v2') {
      this.cachedV2 ??= JSON.stringify(openApiV2(reg));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(this.cachedV2)) });
      return void res.end(this.cachedV2);
    }
    if (path === '/openapi/v3') return sendJson(res, 200, openApiV3Root(reg));
    if (path.startsWith('/openapi/v3/')) {
      const gv = path.slice('/openapi/v3/'.length);
      let text = this.cachedV3.get(gv);
      if (!text) {
        const doc = openApiV3(reg, gv);
        if (doc) {
          text = JSON.stringify(doc);
          this.cachedV3.set(gv, text);
        }
      }
      if (text) {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)), 'Cache-Control': 'public, immutable' });
        return void res.end(text);
      }
    }
    throw new TugError('not-found', 'the server could not find the requested resource', { reason: 'NotFound' });
  }

  // ---- resources ----

  private async resource(req: IncomingMessage, res: ServerResponse, url: URL, rp: ResourcePath, user: UserInfo, info: RequestInfo): Promise<void> {
    const reg = this.cfg.objects.registry;
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    const t = reg.lookup(rp.group, rp.version, rp.plural);
    const watching = rp.legacyWatch || queryBool(q, 'watch');
    info.verb = metricVerb(verbOf(method, rp, watching), method, (req.headers['content-type'] ?? '').startsWith('application/apply-patch'));
    info.group = rp.group;
    info.version = rp.version;
    info.resource = rp.plural;
    info.subresource = rp.subresource ?? '';
    info.scope = rp.name || method === 'POST' ? 'resource' : rp.namespace ? 'namespace' : 'cluster'; // kube-apiserver's CleanScope
    info.dryRun = q.getAll('dryRun').includes('All');
    if (!t) {
      const v = discovery.virtualResources.find((x) => x.group === rp.group && x.version === rp.version && x.plural === rp.plural);
      if (v && v.group === METRICS_GROUP && this.cfg.metrics) {
        const watch = rp.legacyWatch || queryBool(q, 'watch');
        await this.authorize(user, { verb: verbOf(method, rp, watch), group: v.group, resource: v.plural, subresource: rp.subresource, namespace: rp.namespace, name: rp.name });
        return sendJson(res, 200, await serveMetrics(this.cfg.objects, this.cfg.metrics, { method, plural: rp.plural, namespace: rp.namespace, name: rp.name, subresource: rp.subresource, watch, query: q, accept: req.headers.accept }));
      }
      if (v && method === 'POST' && !rp.name) return sendJson(res, 201, await handleVirtual(v.kind, await readBody(req), user, this.cfg.authz, this.cfg.authn));
      throw new TugError('not-found', 'the server could not find the requested resource', { reason: 'NotFound' });
    }
    if (rp.namespace && !t.namespaced) throw new TugError('not-found', 'the server could not find the requested resource', { reason: 'NotFound' });
    const isWatch = rp.legacyWatch || queryBool(q, 'watch');
    const verb = verbOf(method, rp, isWatch);
    // A list or watch pinned to one name (fieldSelector metadata.name=X) is judged as a read of that object, as kube-apiserver does.
    const name = rp.name ?? (verb === 'list' || verb === 'watch' ? fieldSelectorName(q.get('fieldSelector')) : undefined);
    await this.authorize(user, { verb, group: t.group, resource: t.plural, subresource: rp.subresource, namespace: rp.namespace, name });

    const ns = t.namespaced ? rp.namespace : undefined;
    const sub = rp.subresource;
    if (sub && t.kind === 'Pod' && podProxySubresources.has(sub)) {
      // logs, exec, attach, portforward: kube-apiserver counts these as long-running CONNECT (logs stays GET).
      info.longRunning = true;
      return proxyPodSubresource(this.cfg, req, res, ns!, rp.name!, sub, url);
    }
    if (sub && !(sub === 'status' && t.status) && !(sub === 'scale' && t.scale) && !(sub === 'binding' && t.kind === 'Pod') && !(sub === 'finalize' && t.kind === 'Namespace') && !(sub === 'token' && t.kind === 'ServiceAccount') && !(sub === 'eviction' && t.kind === 'Pod') && !(sub === 'approval' && t.kind === 'CertificateSigningRequest')) {
      throw new TugError('not-found', 'the server could not find the requested resource', { reason: 'NotFound' });
    }
    const accept = req.headers.accept;
    const table = wantsTable(accept);
    const include = (q.get('includeObject') as IncludeObject | null) ?? 'Metadata';
    const manager = q.get('fieldManager') ?? defaultManager(req);
    const fv = (q.get('fieldValidation') as FieldValidation | null) ?? 'Warn';
    if (!['Strict', 'Warn', 'Ignore'].includes(fv)) throw badRequest(`fieldValidation must be one of Ignore, Warn, Strict: "${fv}"`);
    const dryRun = q.getAll('dryRun').includes('All');
    const objs = this.cfg.objects;
    const render = (o: KObject) => (table ? toTable(t, [o], include) : o);
    // NodeRestriction: a node agent's writes are held to its own objects.
    const admit = nodeWriteCheck(user, t, verb, sub);

    if (method === 'GET' && isWatch) {
      info.longRunning = true;
      const untrack = trackLongRunning(info);
      res.once('close', untrack);
      return this.watch(req, res, t, ns, q, table, include);
    }
    if (method === 'GET' && !rp.name) {
      const list = await objs.list(t, ns, { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined, limit: Number(q.get('limit') ?? 0) || undefined, continue: q.get('continue') ?? undefined });
      const listMeta: Record<string, unknown> = { resourceVersion: list.resourceVersion };
      if (list.continue) listMeta.continue = list.continue;
      if (list.remainingItemCount !== undefined) listMeta.remainingItemCount = list.remainingItemCount;
      if (table) return sendJson(res, 200, toTable(t, list.items, include, listMeta));
      if (wantsPartialMetadata(accept)) {
        // Metadata-only clients (garbage collectors, quota counters) ask for this to save bytes.
        const items = list.items.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata }));
        return sendJson(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, items }, 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1');
      }
      return sendJson(res, 200, { kind: t.listKind, apiVersion: apiVersionOf(t), metadata: listMeta, items: list.items });
    }
    if (method === 'GET') {
      if (sub === 'scale') return sendJson(res, 200, await objs.getScale(t, ns, rp.name!));
      const got = await objs.get(t, ns, rp.name!);
      if (!table && wantsPartialMetadata(accept)) {
        return sendJson(res, 200, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: got.metadata }, 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1');
      }
      return sendJson(res, 200, render(got));
    }
    if (method === 'POST') {
      const body = await readBody(req);
      if (sub === 'binding') return sendJson(res, 201, await this.bind(t, ns, rp.name!, body, manager));
      if (sub === 'token') return sendJson(res, 201, await this.tokenRequest(t, ns!, rp.name!, body));
      if (sub === 'eviction') {
        await checkNodePodRemoval(user, objs, t, ns, rp.name!);
        return sendJson(res, 201, await evictPod(objs, t, ns!, rp.name!, body));
      }
      if (rp.name) throw methodNotAllowed('POST is not allowed on a named resource');
      if (t.kind === 'CertificateSigningRequest') stampRequester(body, user);
      const r = await objs.create(t, ns, body, { dryRun, fieldManager: manager, fieldValidation: fv, admit });
      return sendJson(res, 201, render(r.object), 'application/json', r.warnings);
    }
    if (method === 'PUT' && rp.name) {
      const body = await readBody(req);
      if (sub === 'scale') return sendJson(res, 200, (await objs.updateScale(t, ns, rp.name, body, { dryRun, fieldManager: manager })).object);
      const r = await objs.update(t, ns, rp.name, body, { dryRun, fieldManager: manager, fieldValidation: fv, subresource: sub === 'status' || sub === 'approval' ? sub : undefined, admit });
      return sendJson(res, 200, render(r.object), 'application/json', r.warnings);
    }
    if (method === 'PATCH' && rp.name) {
      const ct = (req.headers['content-type'] ?? '').split(';')[0].trim();
      const type = patchTypeOf(ct);
      const body = await readBody(req);
      const r = await objs.patch(t, ns, rp.name, type, body, {
        dryRun,
        fieldManager: q.get('fieldManager') ?? (type === 'apply' ? undefined : manager),
        fieldValidation: q.get('fieldValidation') ? fv : type === 'apply' ? 'Strict' : 'Warn',
        force: queryBool(q, 'force'),
        subresource: sub === 'status' || sub === 'scale' || sub === 'approval' ? sub : undefined,
        admit,
      });
      if (sub === 'scale') return sendJson(res, 200, objs.toScale(t, r.object));
      return sendJson(res, 200, render(r.object), 'application/json', r.warnings);
    }
    if (method === 'DELETE') {
      const body = ((await readBody(req)) ?? {}) as Record<string, any>;
      const opts: DeleteOptions = {
        gracePeriodSeconds: q.has('gracePeriodSeconds') ? Number(q.get('gracePeriodSeconds')) : body.gracePeriodSeconds,
        propagationPolicy: (q.get('propagationPolicy') ?? body.propagationPolicy ?? (queryBool(q, 'orphanDependents') || body.orphanDependents === true ? 'Orphan' : undefined)) as DeleteOptions['propagationPolicy'],
        preconditions: body.preconditions,
        dryRun: dryRun || (Array.isArray(body.dryRun) && body.dryRun.includes('All')),
      };
      if (opts.propagationPolicy && !['Foreground', 'Background', 'Orphan'].includes(opts.propagationPolicy)) throw badRequest(`propagationPolicy must be one of Foreground, Background, Orphan`);
      if (!rp.name) {
        const items = await objs.deleteCollection(t, ns, { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined }, opts);
        return sendJson(res, 200, { kind: t.listKind, apiVersion: apiVersionOf(t), metadata: {}, items });
      }
      await checkNodePodRemoval(user, objs, t, ns, rp.name);
      const r = await objs.delete(t, ns, rp.name, opts);
      if (r.deleted && t.kind !== 'Pod') return sendJson(res, 200, successStatus(t, rp.name, r.object.metadata?.uid));
      return sendJson(res, r.deleted ? 200 : 202, r.object);
    }
    throw methodNotAllowed(`the server does not allow this method on the requested resource`);
  }

  /** Impersonate-User / Impersonate-Group (kubectl --as / --as-group), allowed by the "impersonate" verb. */
  private async impersonate(req: IncomingMessage, user: UserInfo): Promise<UserInfo> {
    const as = req.headers['impersonate-user'];
    if (typeof as !== 'string' || !as) return user;
    const raw = req.headers['impersonate-group'];
    const groups = raw === undefined ? [] : (Array.isArray(raw) ? raw : [raw]).flatMap((g) => g.split(',')).map((g) => g.trim()).filter(Boolean);
    await this.authorize(user, { verb: 'impersonate', group: '', resource: 'users', name: as });
    for (const g of groups) await this.authorize(user, { verb: 'impersonate', group: '', resource: 'groups', name: g });
    return { name: as, groups: [...new Set([...groups, 'system:authenticated'])] };
  }

  private async authorize(user: UserInfo, a: Attributes): Promise<void> {
    const d = await this.cfg.authz.authorize(user, a);
    if (!d.allowed) throw forbiddenError(user.name, a.verb, a.subresource ? `${a.resource}/${a.subresource}` : a.resource, a.group, a.namespace, a.name, d.reason);
  }

  /** serviceaccounts/token (TokenRequest): a signed, expiring token for the ServiceAccount. */
  private async tokenRequest(t: ResourceType, ns: string, name: string, body: any): Promise<Record<string, unknown>> {
    const sa = await this.cfg.objects.get(t, ns, name);
    const audiences: string[] = Array.isArray(body?.spec?.audiences) && body.spec.audiences.length ? body.spec.audiences : [defaultAudience];
    const seconds = checkExpiration(body?.spec?.expirationSeconds);
    const { token, expires } = this.cfg.saTokens.issue({ namespace: ns, name, uid: sa.metadata!.uid! }, audiences, seconds);
    return tokenRequestResponse(body, token, expires, audiences, seconds);
  }

  /** pods/binding: the scheduler's way to set spec.nodeName once. */
  private async bind(t: ResourceType, ns: string | undefined, name: string, body: any, manager: string): Promise<KObject> {
    const node = body?.target?.name;
    if (!node) throw badRequest('binding target name is required');
    await this.cfg.objects.bindPod(t, ns, name, node, { fieldManager: manager });
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
  }

  private async watch(req: IncomingMessage, res: ServerResponse, t: ResourceType, ns: string | undefined, q: URLSearchParams, table: boolean, include: IncludeObject): Promise<void> {
    let stop: (() => void) | undefined;
    let ended = false;
    const deadline: { timer?: NodeJS.Timeout } = {};
    const finish = () => {
      if (ended) return;
      ended = true;
      if (deadline.timer) clearTimeout(deadline.timer);
      if (stop) {
        this.watches.delete(stop);
        stop();
      }
      res.end();
    };
    const write = (e: ApiWatchEvent) => {
      if (ended) return;
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
      if (e.type === 'ERROR' || e.type === 'BOOKMARK') res.write(JSON.stringify(e) + '\n');
      else if (table) res.write(JSON.stringify({ type: e.type, object: toTable(t, [e.object], include) }) + '\n');
      // Objects of writes are shared by every watcher of this server (readOnly below): serialized once.
      else res.write(watchLine(e.type, e.object));
    };
    req.on('close', finish);
    res.on('close', finish);
    try {
      stop = await this.cfg.objects.watch(
        t,
        ns,
        {
          labelSelector: q.get('labelSelector') ?? undefined,
          fieldSelector: q.get('fieldSelector') ?? undefined,
          resourceVersion: q.get('resourceVersion') ?? undefined,
          allowWatchBookmarks: queryBool(q, 'allowWatchBookmarks'),
          sendInitialEvents: queryBool(q, 'sendInitialEvents'),
          // This watch only serializes what it is sent.
          readOnly: true,
        },
        write,
        () => finish(),
      );
    } catch (err) {
      if (isKind(err, 'gone')) {
        write({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version', reason: 'Expired', code: 410 } });
        return finish();
      }
      throw err;
    }
    if (ended) {
      stop();
      return;
    }
    this.watches.add(stop);
    if (!res.headersSent) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
      res.flushHeaders();
    }
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    // The real server caps watches at a randomized ~30-60 min; clients re-watch.
    const ms = timeout > 0 ? timeout * 1000 : (1800 + Math.floor(Math.random() * 1800)) * 1000;
    deadline.timer = setTimeout(finish, ms);
  }
}

function verbOf(method: string, rp: ResourcePath, watch: boolean): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return watch ? 'watch' : rp.name ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return rp.name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

function patchTypeOf(ct: string): PatchType {
  switch (ct) {
    case 'application/json-patch+json':
      return 'json';
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+cbor':
      return 'apply';
    default:
      throw new TugError('invalid', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`, { code: 415, reason: 'UnsupportedMediaType' });
  }
}

/** Kubernetes names the manager after the client's User-Agent when none is given. */
function defaultManager(req: IncomingMessage): string {
  const ua = req.headers['user-agent'] ?? 'unknown';
  return ua.split('/')[0].slice(0, 128) || 'unknown';
}
