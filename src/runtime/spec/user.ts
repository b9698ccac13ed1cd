// Resolve Docker's --user ('', 'uid', 'uid:gid', 'name', 'name:group') against
// the image's own /etc/passwd and /etc/group, as runc's libcontainer/user does
// for Docker: names must exist, numbers need not, and supplementary groups come
// from /etc/group membership unless a group was given explicitly.
import { invalid } from '../../errdefs.js';
import { readFileInRoot } from '../../rootfs/read-file.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

const MAX_ID = 2 ** 31 - 1;

/** A file of the image's, read inside its root (a link to a host file reads as missing). */
async function readLines(rootfs: string, path: string): Promise<string[]> {
  return ((await readFileInRoot(rootfs, path)) ?? '').split('\n');
}

function parsePasswd(lines: string[]): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of lines) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const f = t.split(':');
    const uid = Number.parseInt(f[2] ?? '', 10);
    const gid = Number.parseInt(f[3] ?? '', 10);
    if (!f[0] || Number.isNaN(uid) || Number.isNaN(gid)) continue;
    out.push({ name: f[0], uid, gid, home: f[5] || '/' });
  }
  return out;
}

function parseGroup(lines: string[]): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of lines) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const f = t.split(':');
    const gid = Number.parseInt(f[2] ?? '', 10);
    if (!f[0] || Number.isNaN(gid)) continue;
    out.push({ name: f[0], gid, members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) });
  }
  return out;
}

function asId(s: string): number | undefined {
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_ID ? n : undefined;
}

export async function resolveUser(rootfs: string, spec: string): Promise<ResolvedUser> {
  const [userArg, groupArg, extra] = spec.split(':');
  if (extra !== undefined) throw invalid(`invalid user "${spec}": use name|uid[:group|gid]`);
  const passwd = parsePasswd(await readLines(rootfs, '/etc/passwd'));

  // Defaults when the user is empty or numeric and not in the image: root's group, home '/'.
  let uid = 0;
  let gid = 0;
  let home = '/';
  let matchedName: string | undefined;
  if (userArg) {
    const num = asId(userArg);
    const entry = passwd.find((p) => p.name === userArg) ?? (num !== undefined ? passwd.find((p) => p.uid === num) : undefined);
    if (entry) {
      ({ uid, gid, home } = entry);
      matchedName = entry.name;
    } else if (num !== undefined) {
      uid = num;
    } else if (/^\d+$/.test(userArg)) {
      throw invalid(`invalid user "${spec}": uid ${userArg} is out of range 0-${MAX_ID}`);
    } else {
      throw invalid(`unable to find user ${userArg}: no matching entries in passwd file`);
    }
  } else {
    const root = passwd.find((p) => p.uid === 0);
    if (root) {
      ({ gid, home } = root);
      matchedName = root.name;
    }
  }

  const groups = parseGroup(await readLines(rootfs, '/etc/group'));
  let additionalGids: number[] = [];
  if (groupArg !== undefined && groupArg !== '') {
    const num = asId(groupArg);
    const entry = groups.find((g) => g.name === groupArg) ?? (num !== undefined ? groups.find((g) => g.gid === num) : undefined);
    if (entry) gid = entry.gid;
    else if (num !== undefined) gid = num;
    else throw invalid(`unable to find group ${groupArg}: no matching entries in group file`);
  } else if (matchedName !== undefined) {
    additionalGids = [...new Set(groups.filter((g) => g.members.includes(matchedName)).map((g) => g.gid))];
  }
  // The primary gid leads the supplementary list, so `id` shows groups=0(root),10(wheel) as under Docker.
  additionalGids = [gid, ...additionalGids.filter((g) => g !== gid)];
  return { uid, gid, additionalGids, home };
}
