// The Debian-based images the examples stand on (examples/*/images/*), for
// tests: built once on this machine and kept as a `tug save` archive beside the
// bootstrapped rootfs the build tests already cache (/var/cache/tug-test), so
// every later test daemon just loads them. The cache key is the Dockerfiles'
// hash: edit one and the next run builds again. Archives are
// written to a temp name and renamed, so two test files racing to build the
// same image both end with a whole archive.
//
// The daemon bootstraps debian:bookworm from $TUG_BOOTSTRAP_CACHE, which it
// inherits: call useBootstrapCache() before startTestDaemon().
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTug, type Result } from '../cli/cli-helpers.js';
import type { TestDaemon } from './tug-daemon.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The machine-wide cache of bootstrapped rootfs tarballs the build tests use too. */
export const bootstrapCache = '/var/cache/tug-test/bootstrap';
const imageCache = '/var/cache/tug-test/images';

/** Each image: its tag and the directory of its Dockerfile in the repo. */
export const exampleImages = {
  'python-flask': 'examples/compose-counter/images/python-flask',
  redis: 'examples/compose-counter/images/redis',
  'python-pika': 'examples/microservices/images/python-pika',
  rabbitmq: 'examples/microservices/images/rabbitmq',
} as const;
export type ExampleImage = keyof typeof exampleImages;

export const exampleTag = (name: ExampleImage): string => `tug-examples/${name}:bookworm`;

/** Points daemons started after this at the shared bootstrap cache. */
export function useBootstrapCache(): void {
  process.env.TUG_BOOTSTRAP_CACHE = bootstrapCache;
}

function check(r: Result, what: string): Result {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}):\n${r.stderr}\n${r.stdout.slice(-3000)}`);
  return r;
}

/** Makes the named images present in the daemon: loaded from one cached archive (layers shared), or built and cached. */
export async function loadExampleImages(d: TestDaemon, names: ExampleImage[]): Promise<void> {
  await mkdir(imageCache, { recursive: true });
  const sorted = [...new Set(names)].sort();
  const hash = createHash('sha256');
  for (const name of sorted) hash.update(`${name}\0`).update(await readFile(join(repoRoot, exampleImages[name], 'Dockerfile')));
  const archive = join(imageCache, `${sorted.join('+')}-${hash.digest('hex').slice(0, 16)}.tar`);
  if (await access(archive).then(() => true, () => false)) {
    check(await runTug(d.env, ['load', '-q', '-i', archive]), `tug load ${archive}`);
    return;
  }
  const base = await runTug(d.env, ['image', 'inspect', 'debian:bookworm']);
  if (base.code !== 0) check(await runTug(d.env, ['image', 'bootstrap', 'debian:bookworm']), 'tug image bootstrap debian:bookworm');
  for (const name of sorted) check(await runTug(d.env, ['build', '-q', '-t', exampleTag(name), join(repoRoot, exampleImages[name])]), `tug build ${exampleImages[name]}`);
  const tmp = `${archive}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    check(await runTug(d.env, ['save', '-o', tmp, ...sorted.map(exampleTag)]), `tug save ${sorted.join(' ')}`);
    await rename(tmp, archive);
  } finally {
    await rm(tmp, { force: true });
  }
}
