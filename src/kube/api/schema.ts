// One schema source per API type. The same definitions drive strict field
// validation (unknown/mistyped fields), pruning, strategic-merge keys and the
// OpenAPI v2/v3 documents, so what `kubectl explain` shows is what we enforce.

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  items?: Schema;
  required?: string[];
  /** Name of a shared definition (see define()). */
  ref?: string;
  /** Free-form object: anything goes below here (status blobs, probe details...). */
  preserveUnknown?: boolean;
  intOrString?: boolean;
  enum?: string[];
  /** Strategic merge: list items are merged by this key. */
  mergeKey?: string;
  patchStrategy?: 'merge' | 'replace' | 'retainKeys' | 'merge,retainKeys';
  listType?: 'atomic' | 'map' | 'set';
  listMapKeys?: string[];
  gvk?: { group: string; version: string; kind: string };
}

const definitions = new Map<string, Schema>();

export function define(name: string, schema: Schema): Schema {
  definitions.set(name, schema);
  return { ref: name };
}

export function resolveSchema(s: Schema | undefined): Schema | undefined {
  let cur = s;
  for (let i = 0; cur?.ref && i < 10; i++) cur = definitions.get(cur.ref);
  return cur;
}

export function allDefinitions(): ReadonlyMap<string, Schema> {
  return definitions;
}

// Small constructors keep the type files readable.
export const str = (description?: string): Schema => ({ type: 'string', description });
export const int = (description?: string): Schema => ({ type: 'integer', format: 'int32', description });
export const int64 = (description?: string): Schema => ({ type: 'integer', format: 'int64', description });
export const bool = (description?: string): Schema => ({ type: 'boolean', description });
export const num = (description?: string): Schema => ({ type: 'number', format: 'double', description });
export const time = (description?: string): Schema => ({ type: 'string', format: 'date-time', description });
export const intOrStr = (description?: string): Schema => ({ intOrString: true, description });
export const strMap = (description?: string): Schema => ({ type: 'object', additionalProperties: { type: 'string' }, description });
export const loose = (description?: string): Schema => ({ type: 'object', preserveUnknown: true, description });
export const arr = (items: Schema, opts: Partial<Schema> = {}): Schema => ({ type: 'array', items, ...opts });
export const obj = (properties: Record<string, Schema>, opts: Partial<Schema> = {}): Schema => ({
  type: 'object',
  properties,
  ...opts,
});
/** A list merged by key under strategic merge patch (containers by name, ports by containerPort...). */
export const keyedList = (items: Schema, key: string, description?: string): Schema => ({
  type: 'array',
  items,
  mergeKey: key,
  patchStrategy: 'merge',
  listType: 'map',
  listMapKeys: [key],
  description,
});

export interface FieldProblem {
  path: string;
  message: string;
}

/**
 * Walks a decoded object against its schema. Unknown fields are reported (for
 * fieldValidation=Strict/Warn) and removed (Kubernetes drops them when decoding
 * into typed structs); type mismatches are reported as decoding errors.
 */
export function checkFields(value: unknown, schema: Schema | undefined, path = ''): { unknown: string[]; typeErrors: FieldProblem[] } {
  const unknown: string[] = [];
  const typeErrors: FieldProblem[] = [];
  walk(value, schema, path);
  return { unknown, typeErrors };

  function walk(v: unknown, s0: Schema | undefined, p: string): void {
    const s = resolveSchema(s0);
    if (!s || v === null || v === undefined) return;
    if (s.intOrString) {
      if (typeof v !== 'string' && typeof v !== 'number') typeErrors.push({ path: p, message: `expected int or string, got ${typeName(v)}` });
      return;
    }
    switch (s.type) {
      case 'object': {
        if (typeof v !== 'object' || Array.isArray(v)) {
          typeErrors.push({ path: p, message: `expected object, got ${typeName(v)}` });
          return;
        }
        if (s.preserveUnknown && !s.properties) return;
        const rec = v as Record<string, unknown>;
        for (const k of Object.keys(rec)) {
          const child = p ? `${p}.${k}` : k;
          if (s.properties && k in s.properties) walk(rec[k], s.properties[k], child);
          else if (s.additionalProperties) walk(rec[k], s.additionalProperties, child);
          else if (!s.preserveUnknown) {
            unknown.push(child);
            delete rec[k];
          }
        }
        return;
      }
      case 'array':
        if (!Array.isArray(v)) {
          typeErrors.push({ path: p, message: `expected array, got ${typeName(v)}` });
          return;
        }
        v.forEach((item, i) => walk(item, s.items, `${p}[${i}]`));
        return;
      case 'string':
        if (typeof v !== 'string') typeErrors.push({ path: p, message: `expected string, got ${typeName(v)}` });
        return;
      case 'integer':
        if (typeof v !== 'number' || !Number.isInteger(v)) typeErrors.push({ path: p, message: `expected integer, got ${typeName(v)}` });
        return;
      case 'number':
        if (typeof v !== 'number') typeErrors.push({ path: p, message: `expected number, got ${typeName(v)}` });
        return;
      case 'boolean':
        if (typeof v !== 'boolean') typeErrors.push({ path: p, message: `expected boolean, got ${typeName(v)}` });
        return;
      default:
        return;
    }
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Schema of the node at a dotted path below `root` (used by strategic merge to find merge keys). */
export function childSchema(s: Schema | undefined, key: string): Schema | undefined {
  const r = resolveSchema(s);
  if (!r) return undefined;
  if (r.properties && key in r.properties) return r.properties[key];
  return r.additionalProperties;
}

export function undefine(name: string): void {
  definitions.delete(name);
}
