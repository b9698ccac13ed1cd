// Appends one request body to an upload's data file with little CPU per byte,
// since on a two-core machine the server's CPU is what a push waits for (the
// client needs the other core). Each 64 KiB chunk the HTTP parser hands over is
// hashed at once and kept; chunks are written in batches with one pwritev per
// batch from the same buffers (no copy, one thread-pool round trip per MiB
// rather than per chunk), one write in flight at a time, the socket paused when
// the disk falls behind by MAX_PENDING.
//
// The bytes also go to disk while the body arrives: a datasync every SYNC_STEP,
// one at a time, overlapping the network, so the fsync that must come before a
// blob is acknowledged finds little left (the kernel would otherwise hold back
// writeback until gigabytes are dirty, ~120 ms per 120 MB layer here, and
// clients push layers one after another). The body's end waits for the last
// datasync: a PATCH is answered once its bytes are on disk.
//
// A body cut off midway still has every byte it delivered written before this
// returns, so the file holds exactly the bytes the hash saw and the upload
// resumes from there. A datasync error is kept and re-thrown: since Linux 4.13
// a writeback error is reported once per open file, so if it were swallowed a
// later fsync could succeed over pages the kernel has already dropped.
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Hash } from 'node:crypto';
import { receivedBytes } from './young-gc.js';

/** Write once this much is pending (and no write is in flight). */
const BATCH = 1 << 20;
/** Stop reading the socket while this much waits for the disk. */
const MAX_PENDING = 4 << 20;
/** Bytes written between background datasyncs. */
const SYNC_STEP = 8 << 20;
/** A body that pauses with less than BATCH pending is written after this long. */
const IDLE_MS = 5;

export interface AppendResult {
  /** Bytes of the body now in the file (and in the hash), all of them on disk. */
  written: number;
  /** Set when the body ended early (client went away): `written` bytes were kept. */
  cutOff?: Error;
}

/** Where an append failed: the file's content is unknown past `start`. */
export class AppendIoError extends Error {
  constructor(
    override readonly cause: unknown,
    /** A datasync failed: pages may have been dropped, so the file cannot be trusted at all. */
    readonly writeback: boolean,
  ) {
    super((cause as Error)?.message ?? String(cause));
  }
}

/**
 * Append `body` to the file open as `fh` at `start` (its current size), hashing
 * every byte into `hash` in order. Resolves once all delivered bytes are written
 * and datasynced; rejects with AppendIoError if a write or datasync failed.
 */
export function appendBody(fh: FileHandle, start: number, body: Readable, hash: Hash): Promise<AppendResult> {
  return new Promise<AppendResult>((resolve, reject) => {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let pos = start;
    let writing = false;
    let syncing: Promise<void> | undefined;
    let sinceSync = 0;
    let ioErr: AppendIoError | undefined;
    let bodyDone = false;
    let cutOff: Error | undefined;
    let idle: NodeJS.Timeout | undefined;
    let settled = false;

    const startSync = (): void => {
      sinceSync = 0;
      syncing = fh.datasync().then(
        () => {
          syncing = undefined;
        },
        (err: unknown) => {
          syncing = undefined;
          ioErr ??= new AppendIoError(err, true);
        },
      );
    };

    const finish = (): void => {
      if (settled) return;
      settled = true;
      if (idle) clearTimeout(idle);
      body.off('data', onData);
      void (async () => {
        await syncing;
        if (!ioErr && pos > start) {
          try {
            await fh.datasync();
          } catch (err) {
            ioErr = new AppendIoError(err, true);
          }
        }
        if (ioErr) reject(ioErr);
        else resolve({ written: pos - start, cutOff });
      })();
    };

    // Write everything pending as one pwritev, then whatever piled up meanwhile.
    const kick = (): void => {
      if (writing) return;
      if (ioErr || pendingBytes === 0) {
        if (bodyDone || ioErr) finish();
        return;
      }
      if (idle) {
        clearTimeout(idle);
        idle = undefined;
      }
      writing = true;
      const bufs = pending;
      const n = pendingBytes;
      pending = [];
      pendingBytes = 0;
      if (body.isPaused() && !bodyDone) body.resume();
      writeAll(fh, bufs, n, pos).then(
        () => {
          writing = false;
          pos += n;
          sinceSync += n;
          if (sinceSync >= SYNC_STEP && !syncing) startSync();
          if (pendingBytes >= BATCH || bodyDone) kick();
          else armIdle();
        },
        (err: unknown) => {
          writing = false;
          ioErr ??= new AppendIoError(err, false);
          body.destroy();
          finish();
        },
      );
    };

    const armIdle = (): void => {
      if (idle || pendingBytes === 0 || bodyDone) return;
      idle = setTimeout(() => {
        idle = undefined;
        kick();
      }, IDLE_MS);
    };

    const onData = (chunk: Buffer): void => {
      hash.update(chunk);
      receivedBytes(chunk.length);
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= MAX_PENDING) body.pause();
      if (pendingBytes >= BATCH) kick();
      else armIdle();
    };

    const onEnd = (err?: Error | null): void => {
      if (bodyDone) return;
      bodyDone = true;
      if (err) cutOff = err;
      kick();
    };

    body.on('data', onData);
    body.once('end', () => onEnd());
    body.on('error', (err: Error) => onEnd(err));
    // 'close' without 'end' is a client that went away mid-body (IncomingMessage may emit no error).
    body.once('close', () => onEnd(body.readableEnded ? undefined : new Error('the client closed the connection before the body ended')));
  });
}

/** pwritev until every byte is in: a regular file can take fewer bytes than asked (then the next call says why). */
async function writeAll(fh: FileHandle, bufs: Buffer[], n: number, pos: number): Promise<void> {
  let done = 0;
  while (done < n) {
    const { bytesWritten } = await fh.writev(bufs, pos + done);
    if (bytesWritten === 0) throw new Error('write made no progress');
    done += bytesWritten;
    if (done < n) bufs = dropFront(bufs, bytesWritten);
  }
}

function dropFront(bufs: Buffer[], k: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of bufs) {
    if (k >= b.length) {
      k -= b.length;
      continue;
    }
    out.push(k > 0 ? b.subarray(k) : b);
    k = 0;
  }
  return out;
}
