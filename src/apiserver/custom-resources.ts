// CustomResourceDefinitions become served types: each served version turns
// into a ResourceType (schema from openAPIV3Schema, defaults, validation,
// printer columns, status/scale subresources) registered while the CRD
// exists. Deleting a CRD deletes its objects first (the
// customresourcecleanup finalizer), as in Kubernetes. Driven by an informer on
// CRDs (list + watch, periodic resync) like every controller: each server on a
// shared store serves the types of CRDs another server created, and a restart
// picks up a deletion that was in flight.
import { isKind } from '../errdefs.js';
import { Informer } from '../kube/client/informer.js';
import { WorkQueue } from '../kube/client/work-queue.js';
import { LocalClient } from './local-client.js';
import { define, undefine, type Schema } from '../kube/api/schema.js';
import { objectMeta, ageColumn, nameColumn, humanDuration } from '../kube/api/meta.js';
import type { FieldError, KObject, ResourceType, TableColumn } from '../kube/api/resource-type.js';
import { allVerbs } from '../kube/api/resource-type.js';
import { crdType } from '../kube/api/crd-type.js';
import type { ObjectStore } from './object-store.js';
import { evalJsonPath } from './json-path.js';

const CLEANUP = 'customresourcecleanup.apiextensions.k8s.io';
type JsonSchema = Record<string, any>;

/** openAPIV3Schema → our Schema (structural: unknown fields are pruned unless preserved). */
export function fromJsonSchema(js: JsonSchema | undefined): Schema {
  if (!js || typeof js !== 'object') return { type: 'object', preserveUnknown: true };
  const description = typeof js.description === 'string' ? js.description : undefined;
  if (js['x-kubernetes-int-or-string']) return { intOrString: true, description };
  const preserve = js['x-kubernetes-preserve-unknown-fields'] === true;
  const s: Schema = { description };
  switch (js.type) {
    case 'object':
      s.type = 'object';
      if (js.properties) s.properties = Object.fromEntries(Object.entries(js.properties as Record<string, JsonSchema>).map(([k, v]) => [k, fromJsonSchema(v)]));
      if (js.additionalProperties && typeof js.additionalProperties === 'object') s.additionalProperties = fromJsonSchema(js.additionalProperties);
      if (preserve || js.additionalProperties === true) s.preserveUnknown = true;
      if (Array.isArray(js.required)) s.required = js.required;
      break;
    case 'array':
      s.type = 'array';
      s.items = fromJsonSchema(js.items);
      if (js['x-kubernetes-list-type']) s.listType = js['x-kubernetes-list-type'];
      if (js['x-kubernetes-list-map-keys']) s.listMapKeys = js['x-kubernetes-list-map-keys'];
      break;
    case 'string':
    case 'integer':
    case 'number':
    case 'boolean':
      s.type = js.type;
      if (js.format) s.format = js.format;
      if (Array.isArray(js.enum)) s.enum = js.enum.map(String);
      break;
    default:
      return { type: 'object', preserveUnknown: true, description };
  }
  return s;
}

/** Structural defaulting from the `default` keywords. */
export function applyDefaults(v: any, js: JsonSchema | undefined): void {
  if (!js || typeof v !== 'object' || v === null) return;
  if (Array.isArray(v)) {
    for (const item of v) applyDefaults(item, js.items);
    return;
  }
  for (const [k, sub] of Object.entries((js.properties ?? {}) as Record<string, JsonSchema>)) {
    if (v[k] === undefined && sub.default !== undefined) v[k] = structuredClone(sub.default);
    applyDefaults(v[k], sub);
  }
  if (js.additionalProperties && typeof js.additionalProperties === 'object') {
    for (const k of Object.keys(v)) if (!js.properties?.[k]) applyDefaults(v[k], js.additionalProperties);
  }
}

/** The value validations of OpenAPI v3 that CRDs use most, with Kubernetes' messages. */
export function validateAgainst(v: any, js: JsonSchema | undefined, path: string, errs: FieldError[]): void {
  if (!js || v === undefined || v === null) return;
  const p = path || '<root>';
  if (Array.isArray(js.enum) && !js.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(v))) {
    errs.push({ field: p, type: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(v)}: supported values: ${js.enum.map((e: unknown) => JSON.stringify(e)).join(', ')}` });
  }
  if (typeof v === 'number') {
    if (typeof js.maximum === 'number' && (js.exclusiveMaximum ? v >= js.maximum : v > js.maximum)) errs.push({ field: p, type: 'FieldValueInvalid', message: `Invalid value: ${v}: ${p} in body should be less than or equal to ${js.maximum}` });
    if (typeof js.minimum === 'number' && (js.exclusiveMinimum ? v <= js.minimum : v < js.minimum)) errs.push({ field: p, type: 'FieldValueInvalid', message: `Invalid value: ${v}: ${p} in body should be greater than or equal to ${js.minimum}` });
  }
  if (typeof v === 'string') {
    if (typeof js.maxLength === 'number' && v.length > js.maxLength) errs.push({ field: p, type: 'FieldValueTooLong', message: `Too long: may not be longer than ${js.maxLength}` });
    if (typeof js.minLength === 'number' && v.length < js.minLength) errs.push({ field: p, type: 'FieldValueInvalid', message: `Invalid value: "${v}": ${p} in body should be at least ${js.minLength} chars long` });
    if (typeof js.pattern === 'string' && !new RegExp(js.pattern).test(v)) errs.push({ field: p, type: 'FieldValueInvalid', message: `Invalid value: "${v}": ${p} in body should match '${js.pattern}'` });
  }
  if (Array.isArray(v)) {
    if (typeof js.maxItems === 'number' && v.length > js.maxItems) errs.push({ field: p, type: 'FieldValueTooMany', message: `Too many: ${v.length}: must have at most ${js.maxItems} items` });
    if (typeof js.minItems === 'number' && v.length < js.minItems) errs.push({ field: p, type: 'FieldValueInvalid', message: `Invalid value: ${v.length}: ${p} in body should have at least ${js.minItems} items` });
    v.forEach((item, i) => validateAgainst(item, js.items, `${path}[${i}]`, errs));
    return;
  }
  if (typeof v === 'object') {
    for (const r of js.required ?? []) if (v[r] === undefined) errs.push({ field: path ? `${path}.${r}` : r, type: 'FieldValueRequired', message: 'Required value' });
    for (const [k, sub] of Object.entries((js.properties ?? {}) as Record<string, JsonSchema>)) validateAgainst(v[k], sub, path ? `${path}.${k}` : k, errs);
  }
}

function printerColumns(version: any): TableColumn[] {
  const cols: any[] = version.additionalPrinterColumns ?? [];
  if (!cols.length) return [nameColumn, ageColumn];
  return [
    nameColumn,
    ...cols.map((c): TableColumn => ({
      name: c.name,
      type: c.type === 'date' ? 'date' : c.type ?? 'string',
      format: c.format,
      description: c.description ?? c.name,
      priority: c.priority ?? 0,
      cell: (o, now) => {
        const vals = evalJsonPath(o, c.jsonPath ?? '');
        if (!vals.length) return '<none>';
        if (c.type === 'date') return humanDuration(now - Date.parse(String(vals[0])));
        return vals.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(',');
      },
    })),
  ].concat(cols.some((c) => c.jsonPath === '.metadata.creationTimestamp') ? [] : [ageColumn]);
}

const strip = (p: string | undefined) => (p ? p.replace(/^\./, '') : undefined);

export function typesFromCrd(crd: KObject): ResourceType[] {
  const s = crd.spec ?? {};
  const names = s.names ?? {};
  const group: string = s.group;
  return (s.versions ?? [])
    .filter((v: any) => v.served !== false)
    .map((v: any): ResourceType => {
      const js: JsonSchema = v.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
      const schemaName = `${group.split('.').reverse().join('.')}.${v.name}.${names.kind}`;
      const base = fromJsonSchema(js);
      define(schemaName, {
        ...base,
        type: 'object',
        properties: { ...(base.properties ?? {}), apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: objectMeta },
        gvk: { group, version: v.name, kind: names.kind },
      });
      const scale = v.subresources?.scale;
      return {
        group,
        version: v.name,
        kind: names.kind,
        listKind: names.listKind ?? `${names.kind}List`,
        plural: names.plural,
        singular: names.singular ?? String(names.kind).toLowerCase(),
        shortNames: names.shortNames ?? [],
        categories: names.categories ?? [],
        namespaced: s.scope === 'Namespaced',
        schemaName,
        schema: { ref: schemaName },
        hasSpec: true,
        status: !!v.subresources?.status,
        scale: scale ? { specReplicasPath: strip(scale.specReplicasPath)!, statusReplicasPath: strip(scale.statusReplicasPath)!, selectorPath: strip(scale.labelSelectorPath) } : undefined,
        verbs: allVerbs,
        storageResource: `${group}/${names.plural}`,
        defaults: (o) => applyDefaults(o, js),
        validate: (o) => {
          const errs: FieldError[] = [];
          const { metadata: _m, apiVersion: _a, kind: _k, ...body } = o;
          const { metadata: _mp, apiVersion: _ap, kind: _kp, ...props } = (js.properties ?? {}) as Record<string, JsonSchema>;
          validateAgainst(body, { ...js, properties: props, required: (js.required ?? []).filter((r: string) => !['metadata', 'apiVersion', 'kind'].includes(r)) }, '', errs);
          return errs;
        },
        columns: printerColumns(v),
      };
    });
}

export class CustomResources {
  private readonly served = new Map<string, ResourceType[]>();
  /** What each served CRD's types were built from: a resync or a status write does not redefine them. */
  private readonly servedFrom = new Map<string, string>();
  readonly queue = new WorkQueue({ name: 'crd_finalizer', baseDelayMs: 500, maxDelayMs: 30_000 });
  private readonly crds: Informer;

  constructor(private readonly objects: ObjectStore) {
    objects.registerHooks('CustomResourceDefinition', {
      beforeCreate: async (o) => {
        o.metadata!.finalizers = [...new Set([...(o.metadata!.finalizers ?? []), CLEANUP])];
      },
    });
    this.crds = new Informer(new LocalClient(objects, 'apiextensions-controller'), { group: crdType.group, version: crdType.version, resource: crdType.plural }, { resyncMs: 30_000 });
    const enqueue = (o: { metadata: { name?: string } }) => o.metadata.name && this.queue.add(o.metadata.name);
    this.crds.addHandlers({ onAdd: enqueue, onUpdate: enqueue, onDelete: enqueue });
  }

  /** Lists the CRDs and serves their types before returning (the API must not start without them), then follows changes. */
  async start(): Promise<void> {
    await this.crds.start();
    for (const crd of this.crds.list()) await this.reconcile(crd.metadata.name!).catch(() => undefined);
    void this.queue.run((name) => this.reconcile(name), 1);
  }

  stop(): void {
    this.queue.shutdown();
    this.crds.stop();
  }

  /** Serves (or stops serving) one CRD's types, writes its status, and cleans up after a deletion. */
  async reconcile(name: string): Promise<void> {
    const crd = this.crds.get(name);
    if (!crd) {
      this.unserve(name);
      return;
    }
    await this.sync(crd as KObject);
  }

  private serve(crd: KObject): void {
    const name = crd.metadata!.name!;
    const from = `${crd.metadata?.uid}/${JSON.stringify(crd.spec)}`;
    if (this.servedFrom.get(name) === from) return;
    this.servedFrom.set(name, from);
    const next = typesFromCrd(crd);
    for (const old of this.served.get(name) ?? []) {
      if (!next.some((t) => t.version === old.version)) {
        this.objects.registry.remove(old.group, old.version, old.plural);
        undefine(old.schemaName);
      }
    }
    for (const t of next) this.objects.registry.add(t);
    this.served.set(name, next);
  }

  private unserve(name: string): void {
    for (const t of this.served.get(name) ?? []) {
      this.objects.registry.remove(t.group, t.version, t.plural);
      undefine(t.schemaName);
    }
    this.served.delete(name);
    this.servedFrom.delete(name);
  }

  private async sync(crd: KObject): Promise<void> {
    const name = crd.metadata!.name!;
    if (crd.metadata?.deletionTimestamp) {
      await this.cleanup(crd);
      return;
    }
    this.serve(crd);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const cond = (type: string, reason: string, message: string) => {
      const prev = (crd.status?.conditions ?? []).find((c: any) => c.type === type);
      return { type, status: 'True', lastTransitionTime: prev?.status === 'True' ? prev.lastTransitionTime : now, reason, message };
    };
    const status = {
      conditions: [cond('NamesAccepted', 'NoConflicts', 'no conflicts found'), cond('Established', 'InitialNamesAccepted', 'the initial names have been accepted')],
      acceptedNames: { plural: crd.spec.names.plural, singular: crd.spec.names.singular, kind: crd.spec.names.kind, listKind: crd.spec.names.listKind, ...(crd.spec.names.shortNames ? { shortNames: crd.spec.names.shortNames } : {}), ...(crd.spec.names.categories ? { categories: crd.spec.names.categories } : {}) },
      storedVersions: [...new Set([...(crd.status?.storedVersions ?? []), ...(crd.spec.versions ?? []).filter((v: any) => v.storage).map((v: any) => v.name)])],
    };
    if (JSON.stringify(status) === JSON.stringify(crd.status ?? {})) return;
    await this.objects.patch(crdType, undefined, name, 'merge', { status }, { subresource: 'status', fieldManager: 'apiextensions-controller' }).catch((err) => {
      if (!isKind(err, 'not-found') && !isKind(err, 'conflict')) throw err;
    });
  }

  /** Deletes every object of the CRD's type, then lets the CRD go. */
  private async cleanup(crd: KObject): Promise<void> {
    if (!(crd.metadata?.finalizers ?? []).includes(CLEANUP)) return;
    const types = this.served.get(crd.metadata!.name!) ?? typesFromCrd(crd);
    const t = types[0];
    if (t) {
      for (const o of (await this.objects.list(t, undefined)).items) {
        await this.objects.delete(t, o.metadata?.namespace, o.metadata!.name!, {}).catch((err) => {
          if (!isKind(err, 'not-found')) throw err;
        });
      }
    }
    const rest = (crd.metadata?.finalizers ?? []).filter((f: string) => f !== CLEANUP);
    await this.objects.patch(crdType, undefined, crd.metadata!.name!, 'merge', { metadata: { finalizers: rest.length ? rest : null } }, { fieldManager: 'apiextensions-controller' }).catch((err) => {
      if (!isKind(err, 'not-found') && !isKind(err, 'conflict')) throw err;
    });
    // The last finalizer gone deletes the CRD: stop serving now, as its delete event will also say.
    if (!rest.length) this.unserve(crd.metadata!.name!);
  }
}
