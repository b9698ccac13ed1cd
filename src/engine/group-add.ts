// --group-add: extra groups for the container's process, by gid or by a name
// looked up in the container's own /etc/group (as Docker does).
import { invalid } from '../errdefs.js';
import { readFileInRoot } from '../rootfs/read-file.js';

export async function resolveGroupAdd(rootfs: string, groups: string[]): Promise<number[]> {
  if (!groups.length) return [];
  let table: Array<{ name: string; gid: number }> | null = null;
  const out: number[] = [];
  for (const g of groups) {
    if (/^\d+$/.test(g)) {
      out.push(Number(g));
      continue;
    }
    table ??= await readGroupFile(rootfs);
    const hit = table.find((e) => e.name === g);
    if (!hit) throw invalid(`Unable to find group ${g}: no matching entries in group file`);
    out.push(hit.gid);
  }
  return out;
}

async function readGroupFile(rootfs: string): Promise<Array<{ name: string; gid: number }>> {
  // Read inside the root: a symlinked /etc/group must not reach outside the container's root.
  const text = (await readFileInRoot(rootfs, '/etc/group')) ?? '';
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 3 && /^\d+$/.test(f[2]!))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]) }));
}
