// Exit status as conmon records it: after the container's process dies conmon
// writes the status (128+signal when killed) into <exitDir>/<id>. The file
// outlives both the container and the daemon, so a restarted daemon still
// learns the real exit code.
import { readFile, stat, access } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface ExitRecord {
  exitCode: number;
  finishedAt: string;
}

/** RFC3339 with nanoseconds, as Docker prints FinishedAt. */
export function rfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2026-11-21T14:30:14.123Z
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

export async function readExitFile(path: string): Promise<ExitRecord | null> {
  let text: string;
  let st;
  try {
    // Read first, stat only once it exists: a running container's poll costs one failed open.
    text = await readFile(path, 'utf8');
    st = await stat(path, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  // conmon writes the file with g_file_set_contents (temp + rename), so it is never torn.
  const code = Number.parseInt(text.trim(), 10);
  return { exitCode: Number.isNaN(code) ? 255 : code, finishedAt: rfc3339Nano(st.mtimeNs) };
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves with the exit record once `path` appears. fs.watch on the directory
 * wakes us promptly; a slow poll covers missed events and lets `isGone()` end
 * the wait when the monitor died without writing anything; an abort ends it
 * with null too. The poll is per running container, so it is slow (3 s):
 * at 1 s, 200 containers cost 800 file reads a second on a busy node.
 */
export function waitForExitFile(
  path: string,
  isGone: () => Promise<boolean>,
  pollMs = 3000,
  signal?: AbortSignal,
): Promise<ExitRecord | null> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return resolve(null);
    let done = false;
    let watcher: FSWatcher | undefined;
    let checking = false;
    let again = false;
    const timer: NodeJS.Timeout = setInterval(() => void check(true), pollMs);
    const finish = (v: ExitRecord | null, err?: unknown): void => {
      if (done) return;
      done = true;
      watcher?.close();
      clearInterval(timer);
      if (err) reject(err);
      else resolve(v);
    };
    const check = async (pollTick: boolean): Promise<void> => {
      if (done) return;
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      try {
        const rec = await readExitFile(path);
        if (rec) return finish(rec);
        if (pollTick && (await isGone())) {
          // the monitor may have written the file just before exiting
          return finish(await readExitFile(path));
        }
      } catch (err) {
        return finish(null, err);
      } finally {
        checking = false;
      }
      if (again) {
        again = false;
        void check(false);
      }
    };
    try {
      watcher = watch(dirname(path), (_ev, name) => {
        if (!name || name.toString() === basename(path)) void check(false);
      });
      watcher.on('error', () => undefined);
    } catch {
      /* dir missing or watch unsupported: the poll covers it */
    }
    signal?.addEventListener('abort', () => finish(null), { once: true });
    void check(false);
  });
}
