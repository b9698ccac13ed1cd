// One SPDY/3.1 session over a byte stream (a TCP socket after an HTTP upgrade,
// or a websocket tunnel): the server side, which is what a node agent needs.
// The peer opens streams with SYN_STREAM; each becomes a SpdyStream (a Duplex)
// handed to onStream, which answers with reply() and then reads and writes.
// Frames are read in order through one promise chain (header blocks share one
// zlib stream per direction), and written in order through another.
//
// Flow control: we tell the peer how much we consumed with WINDOW_UPDATE as the
// reader drains each stream. For sending we keep the peer's window, but only
// wait on it once the peer has shown it does flow control (sent a
// WINDOW_UPDATE): the SPDY library inside kubectl (moby/spdystream) never sends
// one and never limits us, so waiting on a 64 KiB window would stall forever.
import { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import { encodeFrame, FrameReader, FLAG_FIN, INITIAL_WINDOW, RST, SETTINGS_INITIAL_WINDOW_SIZE, type Frame } from './frames.js';
import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from './header-codec.js';

/** Largest DATA payload we send in one frame. */
const MAX_DATA_CHUNK = 32 * 1024;

export class SpdyStream extends Duplex {
  /** Bytes received but not yet acknowledged to the peer with WINDOW_UPDATE. */
  private unacked = 0;
  private replied = false;
  sendWindow: number;
  private windowWaiters: Array<() => void> = [];

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: SpdyHeaders,
  ) {
    super({ allowHalfOpen: true });
    this.sendWindow = session.peerInitialWindow;
    // Both directions finished: the stream is over, free its id in the table.
    let halves = 0;
    const half = (): void => {
      if (++halves === 2) this.session.forget(this.id);
    };
    this.once('end', half);
    this.once('finish', half);
  }

  /** Accepts the stream (SYN_REPLY). Data may be written only after this. */
  reply(headers: SpdyHeaders = {}): Promise<void> {
    this.replied = true;
    return this.session.sendHeaders('syn_reply', this.id, headers);
  }

  /** Aborts the stream (RST_STREAM) and destroys it locally. */
  reset(status: number = RST.cancel): void {
    if (this.session.forget(this.id)) void this.session.send({ type: 'rst_stream', streamId: this.id, status }).catch(() => undefined);
    this.destroy();
  }

  /** @internal a DATA frame from the peer. */
  receive(data: Buffer, fin: boolean): void {
    if (data.length) {
      if (this.push(data)) this.ack(data.length);
      else this.unacked += data.length;
    }
    if (fin) this.push(null);
  }

  /** @internal the peer grew our send window. */
  grow(delta: number): void {
    this.sendWindow += delta;
    const w = this.windowWaiters;
    this.windowWaiters = [];
    for (const f of w) f();
  }

  private ack(n: number): void {
    if (this.destroyed) return;
    void this.session.send({ type: 'window_update', streamId: this.id, delta: n }).catch(() => undefined);
  }

  override _read(): void {
    if (this.unacked > 0) {
      const n = this.unacked;
      this.unacked = 0;
      this.ack(n);
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.sendData(chunk).then(() => cb(), cb);
  }

  private async sendData(chunk: Buffer): Promise<void> {
    if (!this.replied) throw new Error('spdy: write before reply');
    let off = 0;
    while (off < chunk.length) {
      let n = Math.min(MAX_DATA_CHUNK, chunk.length - off);
      if (this.session.peerDoesFlowControl) {
        while (this.sendWindow <= 0 && !this.destroyed) await new Promise<void>((r) => this.windowWaiters.push(r));
        n = Math.min(n, this.sendWindow);
        this.sendWindow -= n;
      }
      await this.session.send({ type: 'data', streamId: this.id, flags: 0, data: chunk.subarray(off, off + n) });
      off += n;
    }
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.session.send({ type: 'data', streamId: this.id, flags: FLAG_FIN, data: Buffer.alloc(0) }).then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    for (const f of this.windowWaiters) f();
    this.windowWaiters = [];
    this.session.forget(this.id);
    cb(err);
  }
}

export interface SpdySessionEvents {
  close: [];
}

export class SpdySession extends EventEmitter<SpdySessionEvents> {
  private readonly reader = new FrameReader();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  private inbound: Promise<void> = Promise.resolve();
  private outbound: Promise<void> = Promise.resolve();
  private closed = false;
  private lastPeerStream = 0;
  peerInitialWindow = INITIAL_WINDOW;
  peerDoesFlowControl = false;

  constructor(
    private readonly conn: Duplex,
    private readonly onStream: (s: SpdyStream) => void,
  ) {
    super();
    conn.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.reader.push(chunk);
      } catch {
        this.close();
        return;
      }
      for (const f of frames) this.inbound = this.inbound.then(() => this.handle(f)).catch(() => this.close());
    });
    conn.on('end', () => this.close());
    conn.on('close', () => this.close());
    conn.on('error', () => this.close());
  }

  /** Writes one frame, in order with all others; waits for the socket to drain. */
  send(f: Frame): Promise<void> {
    return this.enqueue(() => encodeFrame(f));
  }

  /** @internal SYN_REPLY/HEADERS: the header block is compressed in write order. */
  sendHeaders(type: 'syn_reply' | 'headers', streamId: number, headers: SpdyHeaders): Promise<void> {
    return this.enqueue(async () => encodeFrame({ type, streamId, flags: 0, headerBlock: await this.compressor.compress(headers) }));
  }

  private enqueue(make: () => Buffer | Promise<Buffer>): Promise<void> {
    const p = this.outbound.then(async () => {
      if (this.closed) throw new Error('spdy: session closed');
      const buf = await make();
      if (!this.conn.write(buf)) await new Promise<void>((r) => {
        const done = (): void => {
          this.conn.off('drain', done);
          this.conn.off('close', done);
          r();
        };
        this.conn.on('drain', done);
        this.conn.on('close', done);
      });
    });
    this.outbound = p.catch(() => undefined);
    return p;
  }

  /** @internal drops a stream from the table; true if it was there. */
  forget(id: number): boolean {
    return this.streams.delete(id);
  }

  private async handle(f: Frame): Promise<void> {
    switch (f.type) {
      case 'syn_stream': {
        const headers = await this.decompressor.decompress(f.headerBlock);
        // Client streams have odd ids that only grow (SPDY/3 section 2.3.2).
        if (f.streamId % 2 !== 1 || f.streamId <= this.lastPeerStream) {
          await this.send({ type: 'rst_stream', streamId: f.streamId, status: RST.protocolError });
          return;
        }
        this.lastPeerStream = f.streamId;
        const s = new SpdyStream(this, f.streamId, headers);
        this.streams.set(f.streamId, s);
        if (f.flags & FLAG_FIN) s.receive(Buffer.alloc(0), true);
        this.onStream(s);
        return;
      }
      case 'headers':
      case 'syn_reply':
        // Decompressed only to keep the shared zlib stream in step.
        await this.decompressor.decompress(f.headerBlock);
        if (f.flags & FLAG_FIN) this.streams.get(f.streamId)?.receive(Buffer.alloc(0), true);
        return;
      case 'data': {
        const s = this.streams.get(f.streamId);
        if (!s) {
          await this.send({ type: 'rst_stream', streamId: f.streamId, status: RST.invalidStream });
          return;
        }
        s.receive(f.data, (f.flags & FLAG_FIN) !== 0);
        return;
      }
      case 'rst_stream': {
        const s = this.streams.get(f.streamId);
        this.streams.delete(f.streamId);
        s?.destroy();
        return;
      }
      case 'settings':
        for (const e of f.entries) if (e.id === SETTINGS_INITIAL_WINDOW_SIZE) this.peerInitialWindow = e.value;
        return;
      case 'window_update':
        this.peerDoesFlowControl = true;
        // Stream 0 is the SPDY/3.1 session window; we bound by stream windows only.
        if (f.streamId !== 0) this.streams.get(f.streamId)?.grow(f.delta);
        return;
      case 'ping':
        // Odd ids are the client's pings, which we echo; even ones would be our own.
        if (f.id % 2 === 1) await this.send(f);
        return;
      case 'goaway':
        this.close();
        return;
      case 'unknown':
        return;
    }
  }

  /** Tears the session down: every stream is destroyed and the byte stream closed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.destroy();
    this.streams.clear();
    this.compressor.close();
    this.decompressor.close();
    this.conn.destroy();
    this.emit('close');
  }
}
