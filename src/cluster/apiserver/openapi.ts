// OpenAPI v2 (/openapi/v2) and v3 (/openapi/v3, /openapi/v3/<api|apis/g>/<v>)
// generated from the same schema definitions the server validates with, so
// `kubectl explain` and kubectl's fieldValidation support check see the truth.
import { createHash } from 'node:crypto';
import { allDefinitions, type Schema } from '../api/schema.js';
import { TypeRegistry } from '../api/registry.js';
import type { ResourceType } from '../api/resource-type.js';

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
  if (s.properties) out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, convert(v, d)]));
  if (s.additionalProperties) out.additionalProperties = convert(s.additionalProperties, d);
  if (s.items) out.items = convert(s.items, d);
  if (s.preserveUnknown && !s.properties) out['x-kubernetes-preserve-unknown-fields'] = true;
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
  return defs;
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
  return { swagger: '2.0', info, paths, definitions: definitions('v2'), securityDefinitions: { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header' } }, security: [{ BearerToken: [] }] };
}

/** "api/v1" or "apis/apps/v1" -> document, or undefined if no such group version. */
export function openApiV3(reg: TypeRegistry, gvPath: string): Record<string, unknown> | undefined {
  const m = gvPath.match(/^api\/(v1)$/) ?? gvPath.match(/^apis\/([^/]+)\/([^/]+)$/);
  if (!m) return undefined;
  const [group, version] = gvPath.startsWith('api/') ? ['', m[1]] : [m[1], m[2]];
  const types = reg.inGroupVersion(group, version);
  if (!types.length) return undefined;
  const paths: Record<string, unknown> = {};
  for (const t of types) Object.assign(paths, pathsFor(t, 'v3'));
  return { openapi: '3.0.0', info, paths, components: { schemas: definitions('v3') } };
}

export function openApiV3Root(reg: TypeRegistry): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const gv of reg.groupVersions()) {
    const p = gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`;
    const hash = createHash('sha512').update(JSON.stringify(openApiV3(reg, p))).digest('hex').slice(0, 64).toUpperCase();
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
  }
  return { paths };
}
