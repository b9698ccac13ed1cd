// OpenAPI v2 (/openapi/v2) and v3 (/openapi/v3, /openapi/v3/<api|apis/g>/<v>)
// generated from the same schema definitions the server validates with, so
// `kubectl explain` and kubectl's fieldValidation support check see the truth.
import { createHash } from 'node:crypto';
import { allDefinitions, type Schema } from '../kube/api/schema.js';
import { TypeRegistry } from '../kube/api/registry.js';
import type { ResourceType } from '../kube/api/resource-type.js';
import { virtualResources, type VirtualResource } from './discovery.js';
import { encodeOpenApiV2 } from './protobuf/openapi-v2.js';

type Dialect = 'v2' | 'v3';
const refPrefix = (d: Dialect) => (d === 'v2' ? '#/definitions/' : '#/components/schemas/');

function convert(s: Schema, d: Dialect): Record<string, unknown> {
  if (s.ref) return { $ref: refPrefix(d) + s.ref };
  const out: Record<string, unknown> = {};
  if (s.description) out.description = s.description;
  if (s.intOrString) {
    out.type = 'string';
    out.format = 'int-or-string';
    if (d === 'v3') out['x-kubernetes-int-or-string'] = true;
    return out;
  }
  if (s.type) out.type = s.type;
  if (s.format) out.format = s.format;
  if (s.enum) out.enum = s.enum;
  if (s.required?.length) out.required = s.required;
  // kubectl's client-side validator (fed by v2) rejects every field a schema
  // with properties does not name; where the server keeps unknown fields, v2
  // publishes a plain object so kubectl accepts what the server accepts.
  const openForV2 = d === 'v2' && s.preserveUnknown && s.properties;
  if (s.properties && !openForV2) out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, convert(v, d)]));
  if (s.additionalProperties) out.additionalProperties = convert(s.additionalProperties, d);
  if (s.items) out.items = convert(s.items, d);
  if (s.preserveUnknown && (!s.properties || openForV2)) out['x-kubernetes-preserve-unknown-fields'] = true;
  if (s.mergeKey) out['x-kubernetes-patch-merge-key'] = s.mergeKey;
  if (s.patchStrategy) out['x-kubernetes-patch-strategy'] = s.patchStrategy;
  if (s.listType) out['x-kubernetes-list-type'] = s.listType;
  if (s.listMapKeys) out['x-kubernetes-list-map-keys'] = s.listMapKeys;
  if (s.gvk) out['x-kubernetes-group-version-kind'] = [s.gvk];
  return out;
}

function definitions(d: Dialect): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  for (const [name, s] of allDefinitions()) defs[name] = convert(s, d);
  for (const r of virtualResources) defs[reviewSchemaName(r)] = reviewSchema(r, d);
  return defs;
}

// The answered-not-stored review kinds (TokenReview, SubjectAccessReview...):
// kubectl `create -f` validates them client-side from /openapi/v2 (protobuf),
// which needs their schema (found by x-kubernetes-group-version-kind); `explain`
// reads /openapi/v3. Their spec and status stay open objects.
const reviewSchemaName = (r: VirtualResource) => `io.k8s.api.${r.group.split('.')[0]}.${r.version}.${r.kind}`;

function reviewSchema(r: VirtualResource, d: Dialect): Record<string, unknown> {
  const open = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  return {
    description: `${r.kind} is answered by the server, not stored.`,
    type: 'object',
    required: ['spec'],
    properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { $ref: `${refPrefix(d)}io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` }, spec: open, status: open },
    'x-kubernetes-group-version-kind': [{ group: r.group, version: r.version, kind: r.kind }],
  };
}

function reviewPaths(r: VirtualResource, d: Dialect): Record<string, unknown> {
  const ref = refPrefix(d) + reviewSchemaName(r);
  const params = ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'].map((n) => param(n, 'query', d));
  const post: Record<string, unknown> = {
    operationId: `create${r.group.split('.')[0]}${r.version}${r.kind}`,
    description: `create a ${r.kind}`,
    parameters: d === 'v2' ? [{ name: 'body', in: 'body', required: true, schema: { $ref: ref } }, ...params] : params,
    responses: response(reviewSchemaName(r), d),
    tags: [`${r.group.split('.')[0]}_${r.version}`],
    'x-kubernetes-action': 'post',
    'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
  };
  if (d === 'v3') post.requestBody = { content: { 'application/json': { schema: { $ref: ref } } }, required: true };
  return { [`/apis/${r.group}/${r.version}/${r.plural}`]: { post } };
}

function param(name: string, where: 'query' | 'path', d: Dialect, type = 'string'): Record<string, unknown> {
  const p: Record<string, unknown> = { name, in: where, description: name, ...(where === 'path' ? { required: true } : {}) };
  if (d === 'v2') p.type = type;
  else p.schema = { type, uniqueItems: true };
  return p;
}

function response(ref: string, d: Dialect): Record<string, unknown> {
  return d === 'v2'
    ? { '200': { description: 'OK', schema: { $ref: refPrefix(d) + ref } } }
    : { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: refPrefix(d) + ref } } } } };
}

function op(t: ResourceType, action: string, id: string, d: Dialect, extra: Record<string, unknown>[] = []): Record<string, unknown> {
  const o: Record<string, unknown> = {
    operationId: id,
    description: `${action} ${t.kind}`,
    parameters: extra,
    responses: response(t.schemaName, d),
    tags: [t.group ? `${t.group.replace(/\..*/, '')}_${t.version}` : `core_${t.version}`],
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
  };
  if (d === 'v3' && ['post', 'put', 'patch'].includes(action)) {
    const types = action === 'patch' ? ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'] : ['application/json'];
    o.requestBody = { content: Object.fromEntries(types.map((ct) => [ct, { schema: { $ref: refPrefix(d) + t.schemaName } }])), required: true };
  } else if (d === 'v2' && ['post', 'put', 'patch'].includes(action)) {
    o.parameters = [{ name: 'body', in: 'body', required: true, schema: { $ref: refPrefix(d) + t.schemaName } }, ...extra];
  }
  return o;
}

function pathsFor(t: ResourceType, d: Dialect): Record<string, unknown> {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  const coll = t.namespaced ? `${base}/namespaces/{namespace}/${t.plural}` : `${base}/${t.plural}`;
  const item = `${coll}/{name}`;
  const id = `${t.kind}${t.group ? t.group.split('.')[0] : 'Core'}${t.version}`;
  const write = ['dryRun', 'fieldManager', 'fieldValidation'].map((n) => param(n, 'query', d));
  const listParams = ['labelSelector', 'fieldSelector', 'continue', 'resourceVersion', 'watch'].map((n) => param(n, 'query', d));
  const common = [param('pretty', 'query', d), ...(t.namespaced ? [param('namespace', 'path', d)] : [])];
  const paths: Record<string, unknown> = {
    [coll]: {
      get: op(t, 'list', `list${id}`, d, listParams),
      post: op(t, 'post', `create${id}`, d, write),
      delete: op(t, 'deletecollection', `deleteCollection${id}`, d, listParams),
      parameters: common,
    },
    [item]: {
      get: op(t, 'get', `read${id}`, d),
      put: op(t, 'put', `replace${id}`, d, write),
      patch: op(t, 'patch', `patch${id}`, d, [...write, param('force', 'query', d, 'boolean')]),
      delete: op(t, 'delete', `delete${id}`, d, [param('gracePeriodSeconds', 'query', d, 'integer'), param('propagationPolicy', 'query', d)]),
      parameters: [param('name', 'path', d), ...common],
    },
  };
  if (t.status) {
    paths[`${item}/status`] = {
      get: op(t, 'get', `read${id}Status`, d),
      put: op(t, 'put', `replace${id}Status`, d, write),
      patch: op(t, 'patch', `patch${id}Status`, d, [...write, param('force', 'query', d, 'boolean')]),
      parameters: [param('name', 'path', d), ...common],
    };
  }
  if (t.namespaced) paths[`${base}/${t.plural}`] = { get: op(t, 'list', `list${id}ForAllNamespaces`, d, listParams), parameters: [param('pretty', 'query', d)] };
  return paths;
}

const info = { title: 'Kubernetes', version: 'v1.32.0' };

export function openApiV2(reg: TypeRegistry): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const t of reg.types) Object.assign(paths, pathsFor(t, 'v2'));
  for (const r of virtualResources) Object.assign(paths, reviewPaths(r, 'v2'));
  return { swagger: '2.0', info, paths, definitions: definitions('v2'), securityDefinitions: { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header' } }, security: [{ BearerToken: [] }] };
}

// client-go's discovery OpenAPISchema() asks /openapi/v2 for the first form;
// the answer is labelled with the second, as kube-openapi does, because '@' is
// not a token character and Go's mime.ParseMediaType (client-go reads every
// Content-Type with it) rejects the first.
const openApiV2ProtobufAccepts = ['application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf'];
export const openApiV2ProtobufType = openApiV2ProtobufAccepts[1];

export function wantsOpenApiV2Protobuf(accept: string | undefined): boolean {
  return !!accept && accept.split(',').some((t) => openApiV2ProtobufAccepts.includes(t.trim().split(';')[0]));
}

// Encoded once per registry generation (a CRD coming or going bumps it): the
// document is megabytes and every kubectl create/apply without a cache asks for it.
const v2ProtobufCache = new WeakMap<TypeRegistry, { generation: number; bytes: Buffer }>();

export function openApiV2Protobuf(reg: TypeRegistry): Buffer {
  const hit = v2ProtobufCache.get(reg);
  if (hit && hit.generation === reg.generation) return hit.bytes;
  const bytes = encodeOpenApiV2(openApiV2(reg));
  v2ProtobufCache.set(reg, { generation: reg.generation, bytes });
  return bytes;
}

/** "api/v1" or "apis/apps/v1" -> document, or undefined if no such group version. */
export function openApiV3(reg: TypeRegistry, gvPath: string): Record<string, unknown> | undefined {
  const m = gvPath.match(/^api\/(v1)$/) ?? gvPath.match(/^apis\/([^/]+)\/([^/]+)$/);
  if (!m) return undefined;
  const [group, version] = gvPath.startsWith('api/') ? ['', m[1]] : [m[1], m[2]];
  const types = reg.inGroupVersion(group, version);
  const reviews = virtualResources.filter((r) => r.group === group && r.version === version);
  if (!types.length && !reviews.length) return undefined;
  const paths: Record<string, unknown> = {};
  for (const t of types) Object.assign(paths, pathsFor(t, 'v3'));
  for (const r of reviews) Object.assign(paths, reviewPaths(r, 'v3'));
  return { openapi: '3.0.0', info, paths, components: { schemas: definitions('v3') } };
}

export function openApiV3Root(reg: TypeRegistry): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const gvs = [...reg.groupVersions(), ...virtualResources.filter((r) => !reg.inGroupVersion(r.group, r.version).length)];
  for (const gv of gvs) {
    const p = gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`;
    if (paths[p]) continue;
    const hash = createHash('sha512').update(JSON.stringify(openApiV3(reg, p))).digest('hex').slice(0, 64).toUpperCase();
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
  }
  return { paths };
}
