// Periodic compaction, as kine and kube-apiserver do it: history is kept for at
// least RETAIN_MS and at least MIN_REVISIONS revisions, older revisions are
// compacted so the log does not grow without bound. Several servers sharing one
// store may each run this; compaction is idempotent, so that is harmless.
export interface AutoCompactOptions {
  /** How long a revision stays watchable/listable. */
  retainMs?: number;
  /** How many recent revisions are always kept. */
  minRevisions?: number;
  /** How often to look. */
  intervalMs?: number;
}

export const DEFAULT_AUTO_COMPACT: Required<AutoCompactOptions> = { retainMs: 5 * 60_000, minRevisions: 1000, intervalMs: 60_000 };

export class AutoCompactor {
  private readonly samples: { at: number; revision: number }[] = [];
  private readonly timer: NodeJS.Timeout;
  private running = false;
  private readonly opts: Required<AutoCompactOptions>;

  constructor(
    private readonly currentRevision: () => Promise<number>,
    private readonly compact: (revision: number) => Promise<void>,
    opts: AutoCompactOptions = {},
  ) {
    this.opts = { ...DEFAULT_AUTO_COMPACT, ...opts };
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One look: remember the current revision, compact to the newest one older than retainMs. */
  async tick(now = Date.now()): Promise<number | null> {
    if (this.running) return null;
    this.running = true;
    try {
      const rev = await this.currentRevision();
      this.samples.push({ at: now, revision: rev });
      let target = 0;
      while (this.samples.length > 0 && now - this.samples[0].at >= this.opts.retainMs) {
        target = this.samples.shift()!.revision;
      }
      target = Math.min(target, rev - this.opts.minRevisions);
      if (target <= 0) return null;
      await this.compact(target);
      return target;
    } catch {
      // A failed round (store briefly unavailable, closing) is retried next interval.
      return null;
    } finally {
      this.running = false;
    }
  }
}
