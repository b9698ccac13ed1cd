// Shared by the build tests: a real daemon, context dirs written from a map of
// files, `tug build` through bin/tug, and the check that a build left nothing
// behind (containers, overlay mounts, scratch dirs).
import { mkdtemp, mkdir, writeFile, readdir, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { rand, runTug, type Result } from '../cli/cli-helpers.js';

export { rand, runTug, type Result };

export interface BuildEnv {
  d: TestDaemon;
  tmp: string;
  tug(args: string[], input?: string | Buffer): Promise<Result>;
  /** Writes files (path → content) into a fresh context dir and returns it. */
  context(files: Record<string, string | Buffer>): Promise<string>;
  /** Asserts no container, overlay mount or build scratch dir is left. */
  assertClean(): Promise<void>;
  close(): Promise<void>;
}

export async function buildEnv(): Promise<BuildEnv> {
  const d = await startTestDaemon();
  const tmp = await mkdtemp(join(tmpdir(), 'tug-build-test-'));
  const env: BuildEnv = {
    d,
    tmp,
    tug: (args, input) => runTug(d.env, args, input),
    async context(files) {
      const dir = join(tmp, `ctx-${rand()}`);
      for (const [p, content] of Object.entries(files)) {
        await mkdir(dirname(join(dir, p)), { recursive: true });
        await writeFile(join(dir, p), content);
      }
      await mkdir(dir, { recursive: true });
      return dir;
    },
    async assertClean() {
      const ps = await runTug(d.env, ['ps', '-aq']);
      assert.equal(ps.stdout.trim(), '', `containers left behind: ${ps.stdout}`);
      const fs = await readdir(join(d.root, 'containers-fs')).catch(() => []);
      assert.deepEqual(fs, [], 'overlay dirs left under containers-fs');
      const scratch = await readdir(join(d.root, 'build', 'tmp')).catch(() => []);
      assert.deepEqual(scratch, [], 'build scratch dirs left behind');
      const mounts = await readFile('/proc/self/mounts', 'utf8');
      const ours = mounts.split('\n').filter((l) => l.includes(join(d.root, 'containers-fs')));
      assert.deepEqual(ours, [], 'overlay mounts left behind');
    },
    async close() {
      await d.stop();
      await rm(tmp, { recursive: true, force: true });
    },
  };
  return env;
}

/** The number of steps a plain build log reports as served from the cache. */
export function cachedSteps(log: string): number {
  return log.split('\n').filter((l) => l === ' ---> Using cache').length;
}

export function ranSteps(log: string): number {
  return log.split('\n').filter((l) => l.startsWith(' ---> Running in ')).length;
}
