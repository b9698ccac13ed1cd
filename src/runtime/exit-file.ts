// Exit status as conmon records it: after the container's process dies conmon
// writes the status (128+signal when killed) into <exitDir>/<id>. The file
// outlives both the container and the daemon, so a restarted daemon still
// learns the real exit code.
import { readFile, readdir, stat, access } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';

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

interface ExitWaiter {
  isGone: () => Promise<boolean>;
  finish: (v: ExitRecord | null, err?: unknown) => void;
  checking: boolean;
  again: boolean;
}

/**
 * The waits on one exit directory (conmon writes every container's exit file
 * into the same one), shared: one fs.watch for the directory that wakes only
 * the waits for the file that changed, and one slow poll that lists the
 * directory once for all of them. A watch and a poll per container made each
 * event wake every wait (N reads per exit: quadratic when a node's pods stop
 * together) and each tick cost a failed open per running container.
 */
class ExitDirWatch {
  private readonly waiters = new Map<string, Set<ExitWaiter>>();
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private ticking = false;

  constructor(
    private readonly dir: string,
    private readonly pollMs: number,
    private readonly onIdle: () => void,
  ) {}

  add(name: string, w: ExitWaiter): () => void {
    let set = this.waiters.get(name);
    if (!set) this.waiters.set(name, (set = new Set()));
    set.add(w);
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), this.pollMs);
      try {
        this.watcher = watch(this.dir, (_ev, changed) => {
          if (!changed) return void this.tick(false);
          const n = changed.toString();
          for (const x of this.waiters.get(n) ?? []) void this.check(n, x, false);
        });
        this.watcher.on('error', () => undefined);
      } catch {
        /* dir missing or watch unsupported: the poll covers it */
      }
    }
    void this.check(name, w, false);
    return () => this.remove(name, w);
  }

  private remove(name: string, w: ExitWaiter): void {
    const set = this.waiters.get(name);
    set?.delete(w);
    if (set && set.size === 0) this.waiters.delete(name);
    if (this.waiters.size > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
    this.onIdle();
  }

  /** One listing for every wait; a wait whose file is absent asks whether its monitor is gone (pollTick). */
  private async tick(pollTick = true): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const present = new Set(await readdir(this.dir).catch(() => [] as string[]));
      for (const [name, set] of [...this.waiters]) {
        for (const w of [...set]) if (present.has(name) || pollTick) void this.check(name, w, pollTick && !present.has(name));
      }
    } finally {
      this.ticking = false;
    }
  }

  private async check(name: string, w: ExitWaiter, askGone: boolean): Promise<void> {
    if (w.checking) {
      w.again = true;
      return;
    }
    w.checking = true;
    const path = join(this.dir, name);
    try {
      const rec = await readExitFile(path);
      if (rec) return w.finish(rec);
      // the monitor may have written the file just before exiting
      if (askGone && (await w.isGone())) return w.finish(await readExitFile(path));
    } catch (err) {
      return w.finish(null, err);
    } finally {
      w.checking = false;
    }
    if (w.again) {
      w.again = false;
      void this.check(name, w, false);
    }
  }
}

const dirWatches = new Map<string, ExitDirWatch>();

/**
 * Resolves with the exit record once `path` appears. A watch on the directory
 * wakes us promptly; a slow poll (3 s) covers missed events and lets `isGone()`
 * end the wait when the monitor died without writing anything; an abort ends
 * it with null too. Waits on the same directory share both (ExitDirWatch).
 */
export function waitForExitFile(
  path: string,
  isGone: () => Promise<boolean>,
  pollMs = 3000,
  signal?: AbortSignal,
): Promise<ExitRecord | null> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return resolve(null);
    const dir = dirname(path);
    const key = `${pollMs} ${dir}`;
    let dw = dirWatches.get(key);
    if (!dw) {
      const made: ExitDirWatch = new ExitDirWatch(dir, pollMs, () => {
        if (dirWatches.get(key) === made) dirWatches.delete(key);
      });
      dirWatches.set(key, (dw = made));
    }
    let done = false;
    let remove = (): void => undefined;
    const w: ExitWaiter = {
      isGone,
      checking: false,
      again: false,
      finish: (v, err) => {
        if (done) return;
        done = true;
        remove();
        if (err) reject(err);
        else resolve(v);
      },
    };
    remove = dw.add(basename(path), w);
    if (done) remove();
    signal?.addEventListener('abort', () => w.finish(null), { once: true });
  });
}
