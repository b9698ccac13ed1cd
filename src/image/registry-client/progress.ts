// Docker's streamed JSON progress messages (jsonmessage.JSONMessage), which the
// docker CLI renders as the familiar per-layer pull/push lines and bars.

export interface ProgressMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  /** Pre-rendered bar text, for clients that do not draw their own. */
  progress?: string;
  aux?: Record<string, unknown>;
  errorDetail?: { message: string };
  error?: string;
}

export type ProgressSink = (m: ProgressMessage) => void;

/** The 12-hex short form Docker shows for layer digests. */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** Docker's bar: "[=====>      ]  1.2MB/3.4MB". */
export function progressBar(current: number, total: number, width = 50): string {
  const size = (n: number): string => {
    const units = ['B', 'kB', 'MB', 'GB', 'TB'];
    let i = 0;
    let v = n;
    while (v >= 1000 && i < units.length - 1) {
      v /= 1000;
      i++;
    }
    return i === 0 ? `${v}${units[i]}` : `${v.toFixed(v < 10 ? 3 : v < 100 ? 2 : 1).replace(/\.?0+$/, '')}${units[i]}`;
  };
  if (total <= 0) return `${size(current)}`;
  const filled = Math.min(width, Math.floor((current / total) * width));
  const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? (filled === width ? '=' : '>') : '') + ' '.repeat(width - filled);
  return `[${bar}] ${size(current)}/${size(total)}`;
}

/**
 * A per-layer progress reporter that emits byte counts at most every ~1% or
 * 256 KiB, so a fast local pull does not send thousands of lines.
 */
export function byteReporter(sink: ProgressSink, id: string, status: 'Downloading' | 'Pushing'): (current: number, total: number) => void {
  let last = -1;
  return (current, total) => {
    const step = Math.max(256 * 1024, Math.floor(total / 100));
    if (current !== total && last >= 0 && current - last < step) return;
    last = current;
    sink({ status, progressDetail: { current, total }, progress: progressBar(current, total), id });
  };
}

/** Runs `fn` over `items` with at most `limit` at once (Docker moves 3 layers at a time); fails fast. */
export async function eachLimited<T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        await fn(items[i]!, i);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
}
