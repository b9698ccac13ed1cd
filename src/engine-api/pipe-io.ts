// Joins a container's (or exec's) streams to a hijacked client connection:
// output framed as Docker's multiplexed stream unless a TTY is in use, client
// input to stdin with the detach keys (ctrl-p ctrl-q) honoured.
import type { HijackedConn } from './hijack.js';
import { frame, STDERR, STDOUT } from './stream-framing.js';
import { invalid } from '../errdefs.js';

export interface IoStreams {
  stdout: NodeJS.ReadableStream | null;
  stderr: NodeJS.ReadableStream | null;
  stdin: NodeJS.WritableStream | null;
  close?: () => void;
}

const defaultDetachKeys = Buffer.from([0x10, 0x11]); // ctrl-p ctrl-q

/**
 * A detach-key spec ("ctrl-p,ctrl-q", "a,ctrl-@") as bytes, read as dockerd
 * reads it: comma-separated keys, each one character or ctrl- and one of
 * a-z @ [ \\ ] ^ _. Empty means ctrl-p ctrl-q; anything else is refused,
 * naming the spec, rather than silently falling back to the default.
 */
export function parseDetachKeys(spec: string | null | undefined): Buffer {
  if (!spec) return defaultDetachKeys;
  const out: number[] = [];
  for (const key of spec.split(',')) {
    const ctrl = /^ctrl-([a-z@[\\\]^_])$/i.exec(key);
    if (ctrl) out.push(ctrl[1]!.toLowerCase().charCodeAt(0) & 0x1f);
    else if (key.length === 1) out.push(key.charCodeAt(0));
    else throw invalid(`Invalid detach keys (${spec}) provided: unknown key '${key}'`);
  }
  return Buffer.from(out);
}

export function pipeIo(io: IoStreams, conn: HijackedConn, opts: { multiplexed: boolean; stdin: boolean; stdout: boolean; stderr: boolean; detachKeys?: Buffer; onDone?: () => void; beforeEnd?: Promise<unknown> }): void {
  let open = 0;
  let finished = false;
  // `detached`: the client typed the detach keys. Its connection closes now, as
  // dockerd closes it, while the process goes on; otherwise the end of the
  // stream waits for opts.beforeEnd (an exec's exit code being recorded).
  const finish = (detached = false): void => {
    if (finished) return;
    finished = true;
    if (opts.beforeEnd && !detached) void opts.beforeEnd.catch(() => undefined).then(() => conn.end());
    else conn.end();
    io.close?.();
    opts.onDone?.();
  };
  const forward = (s: NodeJS.ReadableStream | null, stream: number, wanted: boolean): void => {
    if (!s) return;
    open++;
    s.on('data', (d: Buffer) => {
      if (!wanted) return;
      conn.write(opts.multiplexed ? frame(stream, d) : d);
    });
    const done = (): void => {
      open--;
      if (open === 0) finish();
    };
    s.once('end', done);
    s.once('close', () => {
      if (open > 0 && !(s as any).readableEnded) done();
    });
    s.once('error', done);
  };
  forward(io.stdout, STDOUT, opts.stdout);
  forward(io.stderr, STDERR, opts.stderr);
  if (open === 0) finish();

  if (opts.stdin && io.stdin && conn.input) {
    const keys = opts.detachKeys ?? defaultDetachKeys;
    let matched = 0; // how many detach-key bytes are held back from earlier chunks
    conn.input.on('data', (d: Buffer) => {
      if (finished) return;
      const out: number[] = [];
      for (const byte of d) {
        if (byte === keys[matched]) {
          matched++;
          if (matched === keys.length) {
            if (out.length) io.stdin!.write(Buffer.from(out));
            finish(true);
            return;
          }
          continue;
        }
        // Not the detach sequence after all: release the held-back bytes.
        for (let k = 0; k < matched; k++) out.push(keys[k]!);
        matched = 0;
        if (byte === keys[0]) matched = 1;
        else out.push(byte);
      }
      if (out.length) io.stdin!.write(Buffer.from(out));
    });
    // The client's EOF closes the process's stdin, as Docker does, but only
    // without a TTY: with one, stdin and stdout are the same pty, and closing
    // it would drop output still on its way (docker exec -it with stdin at EOF).
    const closeStdin = (): void => {
      if (!finished && opts.multiplexed) io.stdin!.end();
    };
    // A client that sends EOF before we listen (`docker run -i < /dev/null`) leaves the
    // input already ended: no 'end' event will come, so close stdin now.
    if ((conn.input as NodeJS.ReadableStream & { readableEnded?: boolean }).readableEnded) closeStdin();
    else conn.input.once('end', closeStdin);
  }
  conn.onClose(() => finish());
}
