// `docker top`: host `ps` over the container's processes. runc ps gives the
// pids; we run ps once over everything and keep the rows whose PID column is
// one of them, as dockerd does.
import { runTool } from '../util/exec-file.js';
import { invalid } from '../errdefs.js';

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

export async function psForPids(pids: number[], psArgs = '-ef'): Promise<TopResult> {
  const args = psArgs.trim() ? psArgs.trim().split(/\s+/) : ['-ef'];
  const res = await runTool('ps', args, { allowFailure: true });
  if (res.code !== 0) throw invalid(`ps ${args.join(' ')} failed: ${res.stderr.trim() || `exit ${res.code}`}`);
  const lines = res.stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw invalid(`ps ${args.join(' ')} printed nothing`);
  const titles = lines[0]!.trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol < 0) throw invalid(`ps ${args.join(' ')}: output has no PID column`);
  const want = new Set(pids);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    // the last column (CMD/COMMAND) may contain spaces: split the rest only
    const fields = line.trim().split(/\s+/);
    const row = fields.slice(0, titles.length - 1);
    row.push(fields.slice(titles.length - 1).join(' '));
    const pid = Number(row[pidCol]);
    if (want.has(pid)) processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}
