// Moving bytes between the local terminal and a hijacked attach/exec stream:
// demultiplexing [stream, 0, 0, 0, size BE32] frames when there is no TTY,
// raw mode, window-size forwarding, and the ctrl-p ctrl-q detach sequence.
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/** Splits docker's multiplexed stream into stdout (1) and stderr (2) writes. */
export class Demuxer {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly write: (stream: number, data: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      const stream = this.buf[0]!;
      this.write(stream, this.buf.subarray(8, 8 + size));
      this.buf = this.buf.subarray(8 + size);
    }
  }
}

export function writeTo(stream: number, data: Buffer): void {
  if (stream === 2) process.stderr.write(data);
  else process.stdout.write(data);
}

/** Copies a log/attach stream to stdout/stderr; resolves when it ends. */
export function pumpOutput(src: Readable, tty: boolean, head?: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const demux = new Demuxer(writeTo);
    const onChunk = (c: Buffer): void => {
      if (tty) process.stdout.write(c);
      else demux.push(c);
    };
    if (head?.length) onChunk(head);
    src.on('data', onChunk);
    src.on('end', resolve);
    src.on('close', resolve);
    src.on('error', () => resolve());
  });
}

const CTRL_P = 0x10;
const CTRL_Q = 0x11;

/**
 * Forwards local stdin to the connection. With a TTY, ctrl-p ctrl-q detaches
 * (onDetach) and is never sent, like docker's escape proxy. On EOF the write
 * side is closed so the container sees end of input.
 */
export function pumpStdin(socket: Socket, opts: { detachKeys: boolean; onDetach: () => void }): void {
  let heldCtrlP = false;
  process.stdin.on('data', (chunk: Buffer) => {
    if (!opts.detachKeys) {
      socket.write(chunk);
      return;
    }
    const out: number[] = [];
    for (const b of chunk) {
      if (heldCtrlP) {
        heldCtrlP = false;
        if (b === CTRL_Q) {
          if (out.length) socket.write(Buffer.from(out));
          opts.onDetach();
          return;
        }
        out.push(CTRL_P);
      }
      if (b === CTRL_P) heldCtrlP = true;
      else out.push(b);
    }
    if (out.length) socket.write(Buffer.from(out));
  });
  process.stdin.on('end', () => {
    if (!socket.destroyed) socket.end();
  });
  process.stdin.resume();
}

/** Puts the local terminal in raw mode; returns the undo. */
export function rawTerminal(): () => void {
  if (!process.stdin.isTTY) return () => {};
  process.stdin.setRawMode(true);
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    try {
      process.stdin.setRawMode(false);
    } catch {
      // stdin may already be closed at exit; nothing to restore then.
    }
  };
  process.on('exit', restore);
  return restore;
}

/** Sends the terminal size now and on every SIGWINCH. */
export function forwardResize(resize: (h: number, w: number) => Promise<unknown>): void {
  if (!process.stdout.isTTY) return;
  const send = (): void => {
    const { rows, columns } = process.stdout;
    if (rows && columns) resize(rows, columns).catch(() => {});
  };
  send();
  process.on('SIGWINCH', send);
}
