// Protocol Buffers wire format, read side only: enough to take apart the
// messages kubectl's typed clients send (application/vnd.kubernetes.protobuf).
export interface WireField {
  no: number;
  wire: 0 | 1 | 2 | 5;
  /** varint / fixed values as bigint; length-delimited as bytes. */
  value: bigint | Uint8Array;
}

export function readFields(buf: Uint8Array): WireField[] {
  const out: WireField[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('protobuf: truncated varint');
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('protobuf: varint too long');
    }
  };
  while (pos < buf.length) {
    const tag = Number(varint());
    const no = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ no, wire, value: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (pos + len > buf.length) throw new Error('protobuf: truncated field');
      out.push({ no, wire, value: buf.subarray(pos, pos + len) });
      pos += len;
    } else if (wire === 1) {
      out.push({ no, wire, value: new DataView(buf.buffer, buf.byteOffset + pos, 8).getBigUint64(0, true) });
      pos += 8;
    } else if (wire === 5) {
      out.push({ no, wire, value: BigInt(new DataView(buf.buffer, buf.byteOffset + pos, 4).getUint32(0, true)) });
      pos += 4;
    } else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
  return out;
}

/** int32/int64 fields are two's-complement varints. */
export function toInt(v: bigint | Uint8Array): number {
  if (typeof v !== 'bigint') throw new Error('protobuf: expected a varint');
  return Number(BigInt.asIntN(64, v));
}

export function toStr(v: bigint | Uint8Array): string {
  if (typeof v === 'bigint') throw new Error('protobuf: expected bytes');
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
}

export function toBytes(v: bigint | Uint8Array): Uint8Array {
  if (typeof v === 'bigint') throw new Error('protobuf: expected bytes');
  return v;
}
