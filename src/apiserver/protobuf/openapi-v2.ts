// The /openapi/v2 document as gnostic's openapi_v2.Document protobuf
// (google/gnostic openapiv2/OpenAPIv2.proto), the only form client-go's
// discovery OpenAPISchema() accepts. kubectl builds its client-side validation
// models from it (kube-openapi pkg/util/proto): definitions with their type,
// properties, items, additionalProperties, $ref, required and the
// x-kubernetes-group-version-kind extension, which is how it finds a kind's
// model. Paths are encoded too, for clients that read operations.
import { MessageWriter } from './wire-write.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * gnostic's Any {google.protobuf.Any value = 1; string yaml = 2}: values are
 * carried as YAML text. JSON is YAML, so JSON.stringify is a faithful encoding.
 */
function anyValue(v: unknown): MessageWriter {
  return new MessageWriter().string(2, JSON.stringify(v));
}

/** repeated NamedAny vendor_extension: every "x-" key of obj. */
function vendorExtensions(w: MessageWriter, no: number, obj: Obj): void {
  for (const [k, v] of Object.entries(obj)) {
    if (k.startsWith('x-')) w.message(no, new MessageWriter().string(1, k).message(2, anyValue(v)));
  }
}

// Schema field numbers: _ref 1, format 2, description 4, required 19, enum 20,
// additional_properties 21, type 22, items 23, properties 25, vendor_extension 31.
export function encodeSchema(s: Obj): MessageWriter {
  const w = new MessageWriter();
  w.string(1, str(s.$ref)).string(2, str(s.format)).string(4, str(s.description));
  w.strings(19, strs(s.required));
  if (Array.isArray(s.enum)) for (const e of s.enum) w.message(20, anyValue(e));
  if (isObj(s.additionalProperties)) w.message(21, new MessageWriter().message(1, encodeSchema(s.additionalProperties)));
  else if (typeof s.additionalProperties === 'boolean') w.message(21, new MessageWriter().bool(2, s.additionalProperties));
  // TypeItem {repeated string value = 1}
  if (s.type !== undefined) w.message(22, new MessageWriter().strings(1, Array.isArray(s.type) ? strs(s.type) : strs([s.type])));
  // ItemsItem {repeated Schema schema = 1}
  if (isObj(s.items)) w.message(23, new MessageWriter().message(1, encodeSchema(s.items)));
  // Properties {repeated NamedSchema additional_properties = 1}; present even when empty,
  // since kube-openapi tells a kind (properties set) from a map (none) by presence.
  if (isObj(s.properties)) w.message(25, namedSchemas(s.properties));
  vendorExtensions(w, 31, s);
  return w;
}

/** A message of repeated NamedSchema {name 1, value 2} at field 1 (Properties, Definitions). */
function namedSchemas(map: Obj): MessageWriter {
  const w = new MessageWriter();
  for (const [name, s] of Object.entries(map)) if (isObj(s)) w.message(1, new MessageWriter().string(1, name).message(2, encodeSchema(s)));
  return w;
}

// ParametersItem {Parameter parameter = 1}; Parameter {BodyParameter 1 | NonBodyParameter 2};
// NonBodyParameter {header 1 | formData 2 | query 3 | path 4}.
function encodeParameter(p: Obj): MessageWriter {
  const where = str(p.in);
  let param: MessageWriter;
  if (where === 'body') {
    // BodyParameter: description 1, name 2, in 3, required 4, schema 5
    const body = new MessageWriter().string(1, str(p.description)).string(2, str(p.name)).string(3, where).bool(4, p.required === true);
    if (isObj(p.schema)) body.message(5, encodeSchema(p.schema));
    vendorExtensions(body, 6, p);
    param = new MessageWriter().message(1, body);
  } else {
    // Query/Header/Path sub schemas share required 1, in 2, description 3, name 4;
    // type is 6 for query and formData (after allow_empty_value 5), 5 for header and path.
    const sub = new MessageWriter().bool(1, p.required === true).string(2, where).string(3, str(p.description)).string(4, str(p.name));
    const hasAllowEmpty = where === 'query' || where === 'formData';
    sub.string(hasAllowEmpty ? 6 : 5, str(p.type)).string(hasAllowEmpty ? 7 : 6, str(p.format));
    vendorExtensions(sub, hasAllowEmpty ? 23 : 22, p);
    const which = { header: 1, formData: 2, query: 3, path: 4 }[where ?? ''];
    if (!which) throw new Error(`openapi v2 protobuf: parameter ${String(p.name)} has unknown "in": ${String(where)}`);
    param = new MessageWriter().message(2, new MessageWriter().message(which, sub));
  }
  return new MessageWriter().message(1, param);
}

// Responses {repeated NamedResponseValue response_code = 1}; ResponseValue {Response 1};
// Response {description 1, SchemaItem schema 2 {Schema schema = 1}}.
function encodeResponses(rs: Obj): MessageWriter {
  const w = new MessageWriter();
  for (const [code, r] of Object.entries(rs)) {
    if (!isObj(r)) continue;
    const resp = new MessageWriter().string(1, str(r.description));
    if (isObj(r.schema)) resp.message(2, new MessageWriter().message(1, encodeSchema(r.schema)));
    w.message(1, new MessageWriter().string(1, code).message(2, new MessageWriter().message(1, resp)));
  }
  return w;
}

// Operation: tags 1, summary 2, description 3, operation_id 5, parameters 8,
// responses 9, vendor_extension 13.
function encodeOperation(o: Obj): MessageWriter {
  const w = new MessageWriter().strings(1, strs(o.tags)).string(2, str(o.summary)).string(3, str(o.description)).string(5, str(o.operationId));
  if (Array.isArray(o.parameters)) for (const p of o.parameters) if (isObj(p)) w.message(8, encodeParameter(p));
  if (isObj(o.responses)) w.message(9, encodeResponses(o.responses));
  vendorExtensions(w, 13, o);
  return w;
}

const operationField: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, options: 6, head: 7, patch: 8 };

// PathItem: operations 2..8 (see operationField), parameters 9, vendor_extension 10.
function encodePathItem(item: Obj): MessageWriter {
  const w = new MessageWriter();
  for (const [verb, no] of Object.entries(operationField)) if (isObj(item[verb])) w.message(no, encodeOperation(item[verb]));
  if (Array.isArray(item.parameters)) for (const p of item.parameters) if (isObj(p)) w.message(9, encodeParameter(p));
  vendorExtensions(w, 10, item);
  return w;
}

// SecurityDefinitionsItem {basic 1 | api_key 2 | ...}; ApiKeySecurity: type 1, name 2, in 3, description 4.
function encodeSecurityDefinition(d: Obj): MessageWriter {
  if (d.type !== 'apiKey') throw new Error(`openapi v2 protobuf: security definition type ${String(d.type)} is not encoded`);
  return new MessageWriter().message(2, new MessageWriter().string(1, 'apiKey').string(2, str(d.name)).string(3, str(d.in)).string(4, str(d.description)));
}

// Document: swagger 1, info 2, paths 8, definitions 9, security 12, security_definitions 13.
export function encodeOpenApiV2(doc: Obj): Buffer {
  const w = new MessageWriter().string(1, str(doc.swagger));
  if (isObj(doc.info)) w.message(2, new MessageWriter().string(1, str(doc.info.title)).string(2, str(doc.info.version)).string(3, str(doc.info.description)));
  if (isObj(doc.paths)) {
    // Paths {vendor_extension 1, repeated NamedPathItem path = 2}
    const paths = new MessageWriter();
    for (const [p, item] of Object.entries(doc.paths)) if (isObj(item)) paths.message(2, new MessageWriter().string(1, p).message(2, encodePathItem(item)));
    w.message(8, paths);
  }
  if (isObj(doc.definitions)) w.message(9, namedSchemas(doc.definitions));
  if (Array.isArray(doc.security)) {
    // SecurityRequirement {repeated NamedStringArray {name 1, StringArray {repeated string value = 1} 2} = 1}
    for (const req of doc.security) {
      if (!isObj(req)) continue;
      const r = new MessageWriter();
      for (const [name, scopes] of Object.entries(req)) r.message(1, new MessageWriter().string(1, name).message(2, new MessageWriter().strings(1, strs(scopes))));
      w.message(12, r);
    }
  }
  if (isObj(doc.securityDefinitions)) {
    const defs = new MessageWriter();
    for (const [name, d] of Object.entries(doc.securityDefinitions)) if (isObj(d)) defs.message(1, new MessageWriter().string(1, name).message(2, encodeSecurityDefinition(d)));
    w.message(13, defs);
  }
  vendorExtensions(w, 16, doc);
  return w.finish();
}
