// A host-wide lock for choosing a subnet and claiming it with a bridge: two
// daemons (say, two test runs) creating networks at once must not both pick
// the same free pool before either bridge exists. mkdir is atomic; the holder
// writes its pid, and a lock whose holder died (kill -9) is taken over.
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const lockRoot = '/run/tug-locks';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withHostLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(lockRoot, { recursive: true, mode: 0o700 });
  const dir = join(lockRoot, name);
  for (;;) {
    try {
      await mkdir(dir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(await readFile(join(dir, 'pid'), 'utf8').catch(() => ''));
      // No pid yet: the holder is between mkdir and writeFile; wait for it (unless it died there long ago).
      const age = Date.now() - ((await stat(dir).catch(() => undefined))?.mtimeMs ?? Date.now());
      if ((pid > 0 && !alive(pid)) || (!pid && age > 10_000)) await rm(dir, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 20));
    }
  }
  await writeFile(join(dir, 'pid'), String(process.pid));
  try {
    return await fn();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
