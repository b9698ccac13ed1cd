// Client side of conmon's attach socket (SOCK_SEQPACKET). Every packet conmon
// sends starts with one byte naming the pipe it came from (conmon's stdpipe_t:
// 2 = stdout, 3 = stderr); whatever we send is written to the container's
// stdin. Half-closing our side (shutdown SHUT_WR) closes the container's stdin
// unless conmon runs with --leave-stdin-open.
import { open } from 'node:fs/promises';
import { PassThrough, Writable } from 'node:stream';
import unixSocket from 'node-unix-socket';
import { unavailable } from '../../errdefs.js';

const { SeqpacketSocket } = unixSocket;

const STDOUT_PIPE = 2;
const STDERR_PIPE = 3;
// conmon reads at most CONN_SOCK_BUF_SIZE-1 bytes per packet and drops the
// rest of a longer datagram, so stdin goes out in small packets.
const STDIN_PACKET = 8192;

export interface AttachedStreams {
  stdout: PassThrough;
  stderr: PassThrough | null;
  stdin: Writable | null;
  /** Resolves when conmon closes the socket (the process exited and output was drained). */
  ended: Promise<void>;
  close(): void;
}

/**
 * Connects to `<dir>/attach`. The directory may be arbitrarily deep: we open it
 * and connect through /proc/self/fd/N, the same trick conmon uses to bind.
 */
export async function connectAttach(dir: string, opts: { tty: boolean; stdin: boolean }): Promise<AttachedStreams> {
  const dh = await open(dir, 'r');
  const sock = new SeqpacketSocket();
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      try {
        sock.connect(`/proc/self/fd/${dh.fd}/attach`, () => {
          sock.off('error', reject);
          resolve();
        });
      } catch (err) {
        reject(err);
      }
    });
  } catch (err) {
    sock.destroy();
    throw unavailable(`cannot attach: monitor socket in ${dir} is not accepting connections (${(err as Error).message})`);
  } finally {
    await dh.close();
  }

  const stdout = new PassThrough();
  const stderr = opts.tty ? null : new PassThrough();
  let finished = false;
  let resolveEnded!: () => void;
  const ended = new Promise<void>((r) => (resolveEnded = r));
  const finish = (): void => {
    if (finished) return;
    finished = true;
    stdout.end();
    stderr?.end();
    resolveEnded();
  };
  sock.on('data', (buf: Buffer) => {
    if (buf.length < 1) return;
    const payload = buf.subarray(1);
    if (buf[0] === STDERR_PIPE && stderr) stderr.write(payload);
    else if (buf[0] === STDOUT_PIPE || buf[0] === STDERR_PIPE) stdout.write(payload);
  });
  sock.on('end', finish);
  sock.on('close', finish);
  sock.on('error', finish);

  let stdin: Writable | null = null;
  if (opts.stdin) {
    stdin = new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (finished) return cb();
        try {
          for (let off = 0; off < chunk.length; off += STDIN_PACKET) {
            const part = chunk.subarray(off, Math.min(chunk.length, off + STDIN_PACKET));
            const last = off + STDIN_PACKET >= chunk.length;
            sock.write(Buffer.from(part), 0, part.length, last ? () => cb() : undefined);
          }
          if (chunk.length === 0) cb();
        } catch (err) {
          cb(err as Error);
        }
      },
      final(cb) {
        // EOF on stdin: half-close so conmon closes the container's stdin.
        if (finished) return cb();
        try {
          sock.end(() => cb());
        } catch {
          cb();
        }
      },
    });
    stdin.on('error', () => undefined);
  }

  return {
    stdout,
    stderr,
    stdin,
    ended,
    close() {
      try {
        sock.destroy();
      } catch {
        /* already closed */
      }
      finish();
    },
  };
}
