// SPDY/3 header blocks: a count, then length-prefixed name/value pairs
// (several values of one name joined by NUL), compressed with zlib seeded by
// the SPDY dictionary. Each direction of a session is ONE zlib stream that
// spans every header block (flushed with Z_SYNC_FLUSH after each), so the
// compressor and decompressor are long-lived and must see blocks in order;
// the async zlib calls are serialized through a promise chain.
import { createDeflate, createInflate, constants, type Deflate, type Inflate } from 'node:zlib';
import { spdy3Dictionary } from './dictionary.js';
import { TugError } from '../../errdefs.js';

/** Header names are lower case on the wire (SPDY/3 requires it). */
export type SpdyHeaders = Record<string, string>;

export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [k, v] of entries) {
    const name = Buffer.from(k.toLowerCase(), 'utf8');
    const value = Buffer.from(v, 'utf8');
    parts.push(u32(name.length), name, u32(value.length), value);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(buf: Buffer): SpdyHeaders {
  const bad = (): TugError => new TugError('invalid', 'spdy: malformed header block');
  if (buf.length < 4) throw bad();
  const n = buf.readUInt32BE(0);
  let pos = 4;
  const out: SpdyHeaders = {};
  for (let i = 0; i < n; i++) {
    if (pos + 4 > buf.length) throw bad();
    const nl = buf.readUInt32BE(pos);
    pos += 4;
    if (pos + nl + 4 > buf.length) throw bad();
    const name = buf.subarray(pos, pos + nl).toString('utf8').toLowerCase();
    pos += nl;
    const vl = buf.readUInt32BE(pos);
    pos += 4;
    if (pos + vl > buf.length) throw bad();
    out[name] = buf.subarray(pos, pos + vl).toString('utf8');
    pos += vl;
  }
  return out;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** Runs one chunk through a zlib stream and returns exactly the output it produced. */
function pass(z: Deflate | Inflate, chunk: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(new TugError('invalid', `spdy: header compression: ${err.message}`));
    z.once('error', onError);
    // The write callback runs after zlib has pushed this chunk's output into
    // the readable buffer (paused mode), so read() returns just that output.
    z.write(chunk, () => {
      z.off('error', onError);
      const parts: Buffer[] = [];
      let b: Buffer | null;
      while ((b = z.read() as Buffer | null) !== null) parts.push(b);
      resolve(Buffer.concat(parts));
    });
  });
}

export class HeaderCompressor {
  private z = createDeflate({ dictionary: spdy3Dictionary, flush: constants.Z_SYNC_FLUSH });
  private chain: Promise<unknown> = Promise.resolve();

  compress(headers: SpdyHeaders): Promise<Buffer> {
    const p = this.chain.then(() => pass(this.z, encodeHeaderBlock(headers)));
    this.chain = p.catch(() => undefined);
    return p;
  }

  close(): void {
    this.z.destroy();
  }
}

export class HeaderDecompressor {
  private z = createInflate({ dictionary: spdy3Dictionary, flush: constants.Z_SYNC_FLUSH });
  private chain: Promise<unknown> = Promise.resolve();

  decompress(block: Buffer): Promise<SpdyHeaders> {
    const p = this.chain.then(async () => decodeHeaderBlock(await pass(this.z, block)));
    this.chain = p.catch(() => undefined);
    return p;
  }

  close(): void {
    this.z.destroy();
  }
}
