// Renders Docker's JSON progress stream (pull, push) the way the docker CLI
// does: on a terminal one line per layer, redrawn in place with its bar; on a
// pipe plain status lines, without the byte-count updates.
import type { Readable } from 'node:stream';
import { eachJsonLine } from '../client.js';
import { CliError } from '../context.js';

interface Msg {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: unknown;
  error?: string;
  errorDetail?: { message?: string };
}

export async function renderProgress(res: Readable, out: (s: string) => void, tty: boolean, quiet = false): Promise<void> {
  const lines: string[] = []; // ids in the order their lines were first printed
  let error: string | undefined;
  await eachJsonLine(res, (m: Msg) => {
    if (m.error || m.errorDetail) {
      error ??= m.errorDetail?.message ?? m.error;
      return;
    }
    if (quiet || m.aux || !m.status) return;
    const text = `${m.id ? `${m.id}: ` : ''}${m.status}${tty && m.progress ? ` ${m.progress}` : ''}`;
    if (!tty) {
      if (m.progressDetail?.current !== undefined && m.status !== 'Pushed') return;
      out(`${text}\n`);
      return;
    }
    if (!m.id) {
      out(`${text}\n`);
      lines.length = 0; // lines above are final now
      return;
    }
    const at = lines.indexOf(m.id);
    if (at < 0) {
      lines.push(m.id);
      out(`${text}\n`);
      return;
    }
    // Up to the layer's line, clear it, write, then back down.
    const up = lines.length - at;
    out(`\x1b[${up}A\x1b[2K\r${text}\x1b[${up}B\r`);
  });
  if (error) throw new CliError(error, 1);
}
