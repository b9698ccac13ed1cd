// Reader for conmon's k8s-file logs. Each record is one line:
//   2026-11-21T14:32:13.262354772+00:00 stdout F hello
// F closes a line (the '\n' is implied), P is a fragment of a longer line that
// continues in the next record of the same stream; we join fragments so every
// LogEntry is one whole line.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  time: Date;
  data: Buffer;
}

export interface ReadLogsOptions {
  follow: boolean;
  since?: Date;
  until?: Date;
  tail?: number;
  signal?: AbortSignal;
  stillRunning?: () => boolean;
}

interface RawRecord {
  stream: 'stdout' | 'stderr';
  time: Date;
  partial: boolean;
  content: Buffer;
}

const CHUNK = 64 * 1024;
const FOLLOW_POLL_MS = 250;
const NL = 0x0a;

export function parseTimestamp(ts: string): Date {
  // JS Date keeps milliseconds; conmon writes nanoseconds.
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/.exec(ts);
  if (!m) return new Date(Number.NaN);
  const frac = (m[2] ?? '').padEnd(3, '0').slice(0, 3);
  return new Date(`${m[1]}.${frac}${m[3] ?? 'Z'}`);
}

/** Parses one record line (without its '\n'); null when it is not a record. */
export function parseRecord(line: Buffer): RawRecord | null {
  const s1 = line.indexOf(0x20);
  if (s1 < 0) return null;
  const s2 = line.indexOf(0x20, s1 + 1);
  if (s2 < 0) return null;
  const stream = line.toString('latin1', s1 + 1, s2);
  if (stream !== 'stdout' && stream !== 'stderr') return null;
  const s3 = line.indexOf(0x20, s2 + 1);
  const tag = line.toString('latin1', s2 + 1, s3 < 0 ? line.length : s3);
  const content = s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1);
  return {
    stream,
    time: parseTimestamp(line.toString('latin1', 0, s1)),
    partial: tag === 'P',
    content: Buffer.from(content),
  };
}

/**
 * Byte offset where the last `tail` logical lines start. Reads the file
 * backwards in chunks, so a huge log costs only what is asked for.
 */
export async function tailOffset(fh: FileHandle, size: number, tail: number): Promise<number> {
  if (tail <= 0) return size;
  let pos = size;
  let carry = Buffer.alloc(0); // bytes after the current chunk up to the next record boundary
  let fullLines = 0;
  while (pos > 0) {
    const start = Math.max(0, pos - CHUNK);
    const buf = Buffer.alloc(pos - start);
    await fh.read(buf, 0, buf.length, start);
    let data = Buffer.concat([buf, carry]);
    // walk records from the back of `data`; a record ends at '\n'
    let end = data.length;
    if (pos === size && end > 0 && data[end - 1] !== NL) {
      // a torn last record (mid-write): ignore it
      const lastNl = data.lastIndexOf(NL);
      end = lastNl + 1;
    }
    for (;;) {
      const prevNl = end >= 2 ? data.lastIndexOf(NL, end - 2) : -1;
      if (prevNl < 0 && start > 0) break; // need more bytes for this record
      const recStart = prevNl + 1;
      const rec = parseRecord(data.subarray(recStart, end - 1));
      if (rec && !rec.partial) {
        fullLines++;
        if (fullLines > tail) return start + end;
      }
      end = recStart;
      if (recStart === 0) break;
    }
    carry = data.subarray(0, end);
    data = Buffer.alloc(0);
    pos = start;
  }
  return 0;
}

export async function* readLogs(logPath: string, opts: ReadLogsOptions): AsyncIterable<LogEntry> {
  const stillRunning = opts.stillRunning ?? (() => false);
  let fh: FileHandle | undefined;
  // With follow, a log that does not exist yet may still appear.
  while (!fh) {
    try {
      fh = await open(logPath, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (!opts.follow || !stillRunning() || opts.signal?.aborted) return;
      await sleep(FOLLOW_POLL_MS, opts.signal);
    }
  }
  let watcher: FSWatcher | undefined;
  try {
    const size = (await fh.stat()).size;
    let pos = opts.tail !== undefined && opts.tail >= 0 ? await tailOffset(fh, size, opts.tail) : 0;
    let rest = Buffer.alloc(0);
    const pending: Partial<Record<'stdout' | 'stderr', { time: Date; parts: Buffer[] }>> = {};
    let wake: (() => void) | undefined;
    if (opts.follow) {
      try {
        watcher = watch(logPath, () => wake?.());
        watcher.on('error', () => undefined);
      } catch {
        /* the poll covers it */
      }
    }
    const buf = Buffer.alloc(CHUNK);
    // Without follow, the log as it was when asked for: a container still writing
    // would otherwise add lines past the tail while a slow reader catches up.
    const end = opts.follow ? Infinity : size;
    let lastRound = false;
    for (;;) {
      if (opts.signal?.aborted) return;
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos), pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        let data = rest.length ? Buffer.concat([rest, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
        let from = 0;
        let nl: number;
        while ((nl = data.indexOf(NL, from)) >= 0) {
          const rec = parseRecord(data.subarray(from, nl));
          from = nl + 1;
          if (!rec) continue;
          const p = pending[rec.stream];
          if (rec.partial) {
            if (p) p.parts.push(rec.content);
            else pending[rec.stream] = { time: rec.time, parts: [rec.content] };
            continue;
          }
          const entry: LogEntry = p
            ? { stream: rec.stream, time: p.time, data: Buffer.concat([...p.parts, rec.content, Buffer.from('\n')]) }
            : { stream: rec.stream, time: rec.time, data: Buffer.concat([rec.content, Buffer.from('\n')]) };
          delete pending[rec.stream];
          if (opts.since && entry.time < opts.since) continue;
          if (opts.until && entry.time > opts.until) continue;
          yield entry;
        }
        data = Buffer.from(data.subarray(from));
        rest = data;
        continue;
      }
      // at EOF
      if (!opts.follow || lastRound) break;
      if (!stillRunning()) {
        lastRound = true; // drain whatever the monitor wrote before it finished
        continue;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, FOLLOW_POLL_MS);
        function done(): void {
          clearTimeout(t);
          wake = undefined;
          opts.signal?.removeEventListener('abort', done);
          resolve();
        }
        wake = done;
        opts.signal?.addEventListener('abort', done, { once: true });
      });
    }
    // a final unterminated line (container exited mid-line)
    for (const s of ['stdout', 'stderr'] as const) {
      const p = pending[s];
      if (!p) continue;
      if (opts.since && p.time < opts.since) continue;
      if (opts.until && p.time > opts.until) continue;
      yield { stream: s, time: p.time, data: Buffer.concat(p.parts) };
    }
  } finally {
    watcher?.close();
    await fh.close();
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}

/** Size of a log file, 0 when missing (handy for callers deciding on tail). */
export async function logSize(logPath: string): Promise<number> {
  try {
    return (await stat(logPath)).size;
  } catch {
    return 0;
  }
}
