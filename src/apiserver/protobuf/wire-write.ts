// Protocol Buffers wire format, write side (the read side is wire.ts): a
// message is built as a list of encoded fields and flattened once, so nested
// messages get their length prefix without re-walking the tree.
// proto3 semantics: empty strings and false are defaults and are left out;
// nested messages are always written, because their presence can carry meaning.

function varint(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`protobuf: cannot encode ${n} as an unsigned varint`);
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

const tag = (no: number, wire: 0 | 2) => varint(no * 8 + wire);

/** Accumulates one message's fields; finish() gives its bytes. */
export class MessageWriter {
  private readonly parts: Buffer[] = [];

  /** A string field; empty strings are the proto3 default and are left out. */
  string(no: number, s: string | undefined): this {
    if (s) this.bytes(no, Buffer.from(s, 'utf8'));
    return this;
  }

  strings(no: number, list: readonly string[] | undefined): this {
    for (const s of list ?? []) this.bytes(no, Buffer.from(s, 'utf8'));
    return this;
  }

  /** A bool field; false is the proto3 default and is left out. */
  bool(no: number, b: boolean | undefined): this {
    if (b) this.parts.push(tag(no, 0), varint(1));
    return this;
  }

  /** A nested message; written even when empty, since presence can matter (oneof, "properties: {}"). */
  message(no: number, m: MessageWriter | Buffer): this {
    return this.bytes(no, m instanceof MessageWriter ? m.finish() : m);
  }

  bytes(no: number, b: Buffer): this {
    this.parts.push(tag(no, 2), varint(b.length), b);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}
