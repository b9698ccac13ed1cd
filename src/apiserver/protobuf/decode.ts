// Decodes a Kubernetes protobuf request body (the "k8s\0" envelope around
// runtime.Unknown) into the same JSON object a JSON client would have sent.
import { TugError } from '../../errdefs.js';
import { readFields, toInt, toStr, toBytes, type WireField } from './wire.js';
import { messages, protobufKinds, pointerFields, type FieldType } from './k8s-messages.js';

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

export function isK8sProtobuf(buf: Uint8Array): boolean {
  return buf.length >= 4 && MAGIC.every((b, i) => buf[i] === b);
}

function unsupported(msg: string): TugError {
  return new TugError('invalid', msg, { code: 415, reason: 'UnsupportedMediaType' });
}

export function decodeK8sProtobuf(buf: Uint8Array): Record<string, unknown> {
  if (!isK8sProtobuf(buf)) throw unsupported('protobuf body without the k8s envelope');
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array | undefined;
  for (const f of readFields(buf.subarray(4))) {
    if (f.no === 1) {
      for (const t of readFields(toBytes(f.value))) {
        if (t.no === 1) apiVersion = toStr(t.value);
        if (t.no === 2) kind = toStr(t.value);
      }
    } else if (f.no === 2) raw = toBytes(f.value);
  }
  if (!protobufKinds.has(kind)) throw unsupported(`protobuf bodies for ${kind || 'this kind'} are not supported; send application/json`);
  const obj = decodeMessage(raw ?? new Uint8Array(), kind);
  return { apiVersion, kind, ...obj };
}

function decodeMessage(buf: Uint8Array, type: string): Record<string, unknown> {
  const def = messages[type];
  const out: Record<string, any> = {};
  for (const f of readFields(buf)) {
    const spec = def?.[f.no];
    if (!spec) continue;
    const [name, ftype, repeated] = spec;
    if (ftype.startsWith('map:')) {
      const [k, v] = mapEntry(f, ftype.slice(4));
      (out[name] ??= {})[k] = v;
      continue;
    }
    const value = decodeValue(f, ftype);
    if (!repeated && isZero(value) && !pointerFields.has(name) && !pointerFields.has(`${name}:${type}`)) continue;
    if (repeated) (out[name] ??= []).push(value);
    else out[name] = value;
  }
  return out;
}

function decodeValue(f: WireField, type: FieldType): unknown {
  switch (type) {
    case 'string':
      return toStr(f.value);
    case 'int':
      return toInt(f.value);
    case 'bool':
      return toInt(f.value) !== 0;
    case 'bytes':
      return Buffer.from(toBytes(f.value)).toString('base64');
    case 'Time':
      return decodeTime(toBytes(f.value));
    case 'IntOrString':
      return decodeIntOrString(toBytes(f.value));
    case 'Quantity':
      return decodeQuantity(toBytes(f.value));
    case 'FieldsV1': {
      const rawField = readFields(toBytes(f.value)).find((x) => x.no === 1);
      return rawField ? JSON.parse(toStr(rawField.value)) : {};
    }
    default:
      return decodeMessage(toBytes(f.value), type);
  }
}

function mapEntry(f: WireField, valueType: string): [string, unknown] {
  let key = '';
  let value: unknown = valueType === 'bytes' ? '' : valueType === 'Quantity' ? '0' : '';
  for (const e of readFields(toBytes(f.value))) {
    if (e.no === 1) key = toStr(e.value);
    if (e.no === 2) value = valueType === 'bytes' ? Buffer.from(toBytes(e.value)).toString('base64') : valueType === 'Quantity' ? decodeQuantity(toBytes(e.value)) : toStr(e.value);
  }
  return [key, value];
}

/** Zero values of non-pointer Go fields, which JSON's omitempty would have left out. */
function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false || v === null;
}

function decodeTime(buf: Uint8Array): string | null {
  let seconds = 0;
  for (const f of readFields(buf)) if (f.no === 1) seconds = toInt(f.value);
  // The zero metav1.Time is what Go marshals as null.
  if (seconds === 0 || seconds === -62135596800) return null;
  return new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

function decodeIntOrString(buf: Uint8Array): number | string {
  let t = 0;
  let i = 0;
  let s = '';
  for (const f of readFields(buf)) {
    if (f.no === 1) t = toInt(f.value);
    if (f.no === 2) i = toInt(f.value);
    if (f.no === 3) s = toStr(f.value);
  }
  return t === 1 ? s : i;
}

function decodeQuantity(buf: Uint8Array): string {
  for (const f of readFields(buf)) if (f.no === 1) return toStr(f.value);
  return '0';
}
