// SPDY/3.1 frames (draft 3.1, section 2.2): an 8-byte header, then the payload.
// Control frames: C=1 | version(15) | type(16) | flags(8) | length(24).
// Data frames:    C=0 | stream id(31)           | flags(8) | length(24).
// This file only moves bytes; header blocks stay compressed here and are
// (de)compressed by the session, which owns the per-direction zlib streams.
import { TugError } from '../../errdefs.js';

export const SPDY_VERSION = 3;
export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;
export const INITIAL_WINDOW = 64 * 1024;
/** The largest payload a frame can carry (24-bit length). */
export const MAX_FRAME_PAYLOAD = 0xffffff;

export const enum FrameType {
  SynStream = 1,
  SynReply = 2,
  RstStream = 3,
  Settings = 4,
  Ping = 6,
  GoAway = 7,
  Headers = 8,
  WindowUpdate = 9,
}

/** RST_STREAM status codes. */
export const RST = { protocolError: 1, invalidStream: 2, refusedStream: 3, cancel: 5, internalError: 6, flowControlError: 7, streamInUse: 8, streamAlreadyClosed: 9 } as const;
export const SETTINGS_INITIAL_WINDOW_SIZE = 7;

export type Frame =
  | { type: 'data'; streamId: number; flags: number; data: Buffer }
  | { type: 'syn_stream'; streamId: number; associatedId: number; priority: number; flags: number; headerBlock: Buffer }
  | { type: 'syn_reply'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; flags: number; entries: Array<{ flags: number; id: number; value: number }> }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'headers'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'window_update'; streamId: number; delta: number }
  | { type: 'unknown'; frameType: number; flags: number; payload: Buffer };

const MASK31 = 0x7fffffff;

function control(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new TugError('invalid', 'spdy: frame payload too large');
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  return Buffer.concat([h, payload]);
}

function words(...ns: number[]): Buffer {
  const b = Buffer.alloc(ns.length * 4);
  ns.forEach((n, i) => b.writeUInt32BE(n >>> 0, i * 4));
  return b;
}

export function encodeFrame(f: Frame): Buffer {
  switch (f.type) {
    case 'data': {
      if (f.data.length > MAX_FRAME_PAYLOAD) throw new TugError('invalid', 'spdy: data frame too large');
      const h = words(f.streamId & MASK31, ((f.flags & 0xff) << 24) | f.data.length);
      return Buffer.concat([h, f.data]);
    }
    case 'syn_stream': {
      const p = Buffer.alloc(10);
      p.writeUInt32BE(f.streamId & MASK31, 0);
      p.writeUInt32BE(f.associatedId & MASK31, 4);
      p.writeUInt8((f.priority & 0x7) << 5, 8);
      return control(FrameType.SynStream, f.flags, Buffer.concat([p, f.headerBlock]));
    }
    case 'syn_reply':
      return control(FrameType.SynReply, f.flags, Buffer.concat([words(f.streamId & MASK31), f.headerBlock]));
    case 'headers':
      return control(FrameType.Headers, f.flags, Buffer.concat([words(f.streamId & MASK31), f.headerBlock]));
    case 'rst_stream':
      return control(FrameType.RstStream, 0, words(f.streamId & MASK31, f.status));
    case 'settings': {
      const p = Buffer.alloc(4 + f.entries.length * 8);
      p.writeUInt32BE(f.entries.length, 0);
      f.entries.forEach((e, i) => {
        p.writeUInt32BE((((e.flags & 0xff) << 24) | (e.id & 0xffffff)) >>> 0, 4 + i * 8);
        p.writeUInt32BE(e.value >>> 0, 8 + i * 8);
      });
      return control(FrameType.Settings, f.flags, p);
    }
    case 'ping':
      return control(FrameType.Ping, 0, words(f.id));
    case 'goaway':
      return control(FrameType.GoAway, 0, words(f.lastGoodStreamId & MASK31, f.status));
    case 'window_update':
      return control(FrameType.WindowUpdate, 0, words(f.streamId & MASK31, f.delta & MASK31));
    case 'unknown':
      return control(f.frameType, f.flags, f.payload);
  }
}

function need(p: Buffer, n: number, what: string): void {
  if (p.length < n) throw new TugError('invalid', `spdy: ${what} frame too short (${p.length} bytes)`);
}

function decodeControl(type: number, flags: number, p: Buffer): Frame {
  switch (type) {
    case FrameType.SynStream:
      need(p, 10, 'SYN_STREAM');
      return { type: 'syn_stream', streamId: p.readUInt32BE(0) & MASK31, associatedId: p.readUInt32BE(4) & MASK31, priority: p.readUInt8(8) >> 5, flags, headerBlock: p.subarray(10) };
    case FrameType.SynReply:
      need(p, 4, 'SYN_REPLY');
      return { type: 'syn_reply', streamId: p.readUInt32BE(0) & MASK31, flags, headerBlock: p.subarray(4) };
    case FrameType.Headers:
      need(p, 4, 'HEADERS');
      return { type: 'headers', streamId: p.readUInt32BE(0) & MASK31, flags, headerBlock: p.subarray(4) };
    case FrameType.RstStream:
      need(p, 8, 'RST_STREAM');
      return { type: 'rst_stream', streamId: p.readUInt32BE(0) & MASK31, status: p.readUInt32BE(4) };
    case FrameType.Settings: {
      need(p, 4, 'SETTINGS');
      const n = p.readUInt32BE(0);
      need(p, 4 + n * 8, 'SETTINGS');
      const entries = [];
      for (let i = 0; i < n; i++) {
        const fi = p.readUInt32BE(4 + i * 8);
        entries.push({ flags: fi >>> 24, id: fi & 0xffffff, value: p.readUInt32BE(8 + i * 8) });
      }
      return { type: 'settings', flags, entries };
    }
    case FrameType.Ping:
      need(p, 4, 'PING');
      return { type: 'ping', id: p.readUInt32BE(0) };
    case FrameType.GoAway:
      need(p, 4, 'GOAWAY');
      return { type: 'goaway', lastGoodStreamId: p.readUInt32BE(0) & MASK31, status: p.length >= 8 ? p.readUInt32BE(4) : 0 };
    case FrameType.WindowUpdate:
      need(p, 8, 'WINDOW_UPDATE');
      return { type: 'window_update', streamId: p.readUInt32BE(0) & MASK31, delta: p.readUInt32BE(4) & MASK31 };
    default:
      return { type: 'unknown', frameType: type, flags, payload: p };
  }
}

/** Cuts a byte stream into frames; feed it chunks as they arrive. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Frame[] = [];
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4) & 0xffffff;
      if (this.buf.length < 8 + len) break;
      const flags = this.buf.readUInt8(4);
      const payload = this.buf.subarray(8, 8 + len);
      if (this.buf[0] & 0x80) {
        const version = this.buf.readUInt16BE(0) & 0x7fff;
        if (version !== SPDY_VERSION) throw new TugError('invalid', `spdy: unsupported version ${version}`);
        out.push(decodeControl(this.buf.readUInt16BE(2), flags, Buffer.from(payload)));
      } else {
        out.push({ type: 'data', streamId: this.buf.readUInt32BE(0) & MASK31, flags, data: Buffer.from(payload) });
      }
      this.buf = this.buf.subarray(8 + len);
    }
    return out;
  }
}
