// Moving bytes between the local terminal and a hijacked attach/exec stream:
// demultiplexing [stream, 0, 0, 0, size BE32] frames when there is no TTY,
// raw mode, window-size forwarding, and the detach key sequence (ctrl-p ctrl-q).
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { UsageError } from './args.js';

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

/** The default detach sequence, ctrl-p ctrl-q. */
export const DEFAULT_DETACH_KEYS = [0x10, 0x11];

/** docker's --detach-keys syntax: "ctrl-p,ctrl-q", "ctrl-[,a"; letters, @ [ \\ ] ^ _ after ctrl-. */
export function parseDetachKeys(spec: string): number[] {
  return spec.split(',').map((k) => {
    const m = /^ctrl-(.)$/i.exec(k);
    if (m) {
      const c = m[1]!.toLowerCase();
      if (c >= 'a' && c <= 'z') return c.charCodeAt(0) - 96;
      const specials: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };
      if (c in specials) return specials[c]!;
    } else if (k.length === 1) return k.charCodeAt(0);
    throw new UsageError(`Invalid detach keys (${k}) provided`);
  });
}

/**
 * Forwards local stdin to the connection. With detach keys (TTY sessions), the
 * sequence detaches (onDetach) and is never sent, like docker's escape proxy;
 * a partial match is held back until it fails. On EOF the write side is
 * closed so the container sees end of input.
 */
export function pumpStdin(socket: Socket, opts: { detachKeys?: number[]; onDetach: () => void }): void {
  const keys = opts.detachKeys ?? [];
  let matched = 0;
  process.stdin.on('data', (chunk: Buffer) => {
    if (!keys.length) {
      socket.write(chunk);
      return;
    }
    const out: number[] = [];
    for (const b of chunk) {
      if (b === keys[matched]) {
        matched++;
        if (matched === keys.length) {
          if (out.length) socket.write(Buffer.from(out));
          opts.onDetach();
          return;
        }
        continue;
      }
      // The held prefix was not the sequence after all: send it on.
      out.push(...keys.slice(0, matched));
      matched = 0;
      if (b === keys[0]) matched = 1;
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
