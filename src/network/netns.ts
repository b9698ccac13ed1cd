// Network namespaces as files: `unshare --net=FILE` bind-mounts the new
// namespace's nsfs inode onto FILE, so the namespace outlives any process and
// survives a daemon restart, and CNI plugins and runc can enter it by path.
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { runTool } from '../util/exec-file.js';

/**
 * A new namespace with its loopback up (what the CNI loopback plugin would do,
 * without spawning it): `ip` runs inside the namespace unshare just made. With
 * ipBatch, that same `ip` runs the batch instead (which must bring lo up
 * itself): the namespace made and wired by one process.
 */
export async function createNetns(path: string, ipBatch?: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, '', { flag: 'w', mode: 0o444 });
  try {
    if (ipBatch === undefined) await runTool('unshare', [`--net=${path}`, 'ip', 'link', 'set', 'lo', 'up']);
    else await runTool('unshare', [`--net=${path}`, 'ip', '-batch', '-'], { input: ipBatch });
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
}

/** Unmounts and removes the namespace file; missing or already unmounted is fine. */
export async function removeNetns(path: string): Promise<void> {
  // Lazy unmount: a process still inside keeps the namespace alive, not the file.
  const r = await runTool('umount', ['-l', path], { allowFailure: true });
  if (r.code !== 0 && !/not mounted|no mount point|No such file/i.test(r.stderr)) {
    throw new Error(`umount ${path}: ${r.stderr.trim()}`);
  }
  await rm(path, { force: true });
}

/**
 * removeNetns for several files with one `umount` (a pod's net, uts and ipc
 * pins: one spawn, not three; busybox's, which skips util-linux's parse of the
 * whole mount table). Files that were not mounted are fine; one still mounted
 * afterwards is an error.
 */
export async function removeNetnsAll(paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  const r = await runTool('busybox', ['umount', '-l', ...paths], { allowFailure: true });
  if (r.code !== 0) {
    const left = (await Promise.all(paths.map(async (p) => ((await isNetnsMounted(p)) ? p : '')))).filter(Boolean);
    if (left.length > 0) throw new Error(`umount ${left.join(' ')}: ${r.stderr.trim()}`);
  }
  await Promise.all(paths.map((p) => rm(p, { force: true })));
}

const NSFS_MAGIC = 0x6e736673;

/**
 * Is a live namespace mounted on the file? After a reboot (or a stray umount)
 * the file is left as a plain empty file, which plugins refuse as a netns.
 */
export async function isNetnsMounted(path: string): Promise<boolean> {
  try {
    return (await statfs(path)).type === NSFS_MAGIC;
  } catch {
    return false;
  }
}

/** The IPv4 address on an interface inside the namespace, if any. */
export async function addressInNetns(path: string, ifName: string): Promise<string | undefined> {
  const r = await runTool('nsenter', [`--net=${path}`, 'ip', '-j', '-4', 'addr', 'show', 'dev', ifName], { allowFailure: true });
  if (r.code !== 0) return undefined;
  try {
    const links = JSON.parse(r.stdout) as { addr_info?: { local?: string }[] }[];
    return links[0]?.addr_info?.[0]?.local;
  } catch {
    return undefined;
  }
}
