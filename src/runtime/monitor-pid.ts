// Is this container's conmon still alive? The pid comes from conmon's own
// pidfile; /proc/<pid>/cmdline guards against pid reuse after a reboot or a
// long downtime.
import { readFile } from 'node:fs/promises';

export async function readPidFile(path: string): Promise<number | null> {
  try {
    const n = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export async function isMonitorAlive(pidFile: string, cid: string): Promise<boolean> {
  const pid = await readPidFile(pidFile);
  if (!pid) return false;
  try {
    const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    return cmd[0]?.endsWith('conmon') === true && cmd.includes(cid);
  } catch {
    return false;
  }
}

/** Polls until the monitor is gone; false if it is still alive after `timeoutMs`. */
export async function waitMonitorGone(pidFile: string, cid: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await isMonitorAlive(pidFile, cid))) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}
