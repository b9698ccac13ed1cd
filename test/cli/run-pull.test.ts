// `tug run` / `tug create` of an image the daemon does not have pull it first,
// as the docker CLI does (--pull missing|always|never, -q), from a real
// `tug registry serve` on 127.0.0.1: push, rmi, then run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestDaemon, tugBin, type TestDaemon } from '../helpers/tug-daemon.js';
import { freePort } from '../registry-client/helpers.js';
import { rand, runTug, type Result } from './cli-helpers.js';

let d: TestDaemon;
let tmp: string;
let registry: ChildProcess | undefined;
let reg: string;
const tug = (...args: string[]): Promise<Result> => runTug(d.env, args);
function ok(r: Result, what: string): Result {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  return r;
}

async function startRegistry(): Promise<string> {
  const port = await freePort();
  const root = join(tmp, 'registry');
  registry = spawn(process.execPath, [tugBin, 'registry', 'serve', '--addr', `127.0.0.1:${port}`, '--root', root], { stdio: ['ignore', 'ignore', 'ignore'] });
  for (let i = 0; ; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.status === 200, () => false);
    if (up) return `127.0.0.1:${port}`;
    if (i > 300 || registry.exitCode !== null) throw new Error('tug registry serve did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function build(tag: string, cmd: string): Promise<string> {
  const ctx = await mkdtemp(join(tmp, 'ctx-'));
  await writeFile(join(ctx, 'Dockerfile'), `FROM busybox\nUSER 1000:1000\nCMD ["sh", "-c", "${cmd}"]\n`);
  return ok(await tug('build', '-q', '-t', tag, ctx), 'build').stdout.trim();
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tug-run-pull-'));
  d = await startTestDaemon();
  reg = await startRegistry();
});
after(async () => {
  await d?.stop();
  if (registry && registry.exitCode === null) {
    const exited = new Promise((r) => registry!.once('exit', r));
    registry.kill('SIGTERM');
    await exited;
  }
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('run pulls a missing image (then runs it as its USER); --pull never, -q, --pull always, a missing tag', async () => {
  const ref = `${reg}/app-${rand()}:1`;
  const v1 = await build(ref, 'echo v1-as-$(id -u)');
  ok(await tug('push', ref), 'push');
  ok(await tug('rmi', ref), 'rmi');

  const ran = ok(await tug('run', '--rm', ref), 'run of a missing image');
  assert.equal(ran.stdout, 'v1-as-1000\n');
  assert.match(ran.stderr, new RegExp(`^Unable to find image '${ref.replace(/\./g, '\\.')}' locally\n`));
  assert.match(ran.stderr, /^1: Pulling from /m);
  assert.match(ran.stderr, new RegExp(`Status: Downloaded newer image for ${ref.replace(/\./g, '\\.')}\n`));
  ok(await tug('image', 'inspect', ref), 'the pulled image stays');

  ok(await tug('rmi', ref), 'rmi');
  const never = await tug('create', '--pull', 'never', ref);
  assert.equal(never.code, 125);
  assert.doesNotMatch(never.stderr, /Unable to find image/);
  assert.match(never.stderr, /No such image/);

  // -q: nothing but the id, on stdout; the progress is gone, not moved.
  const quiet = ok(await tug('create', '-q', ref), 'create -q');
  assert.match(quiet.stdout, /^[0-9a-f]{64}\n$/);
  assert.equal(quiet.stderr, '');
  ok(await tug('rm', quiet.stdout.trim()), 'rm');
  // run -d: the pull's progress is on stderr, the id alone on stdout.
  ok(await tug('rmi', ref), 'rmi');
  const detached = ok(await tug('run', '-d', ref), 'run -d');
  assert.match(detached.stdout, /^[0-9a-f]{64}\n$/);
  assert.match(detached.stderr, /Unable to find image/);
  assert.equal(ok(await tug('wait', detached.stdout.trim()), 'wait').stdout, '0\n');
  ok(await tug('rm', detached.stdout.trim()), 'rm');

  // A newer image under the same tag in the registry: the default keeps the local one, --pull always fetches it.
  await build(ref, 'echo v2-as-$(id -u)');
  ok(await tug('push', ref), 'push v2');
  ok(await tug('tag', v1, ref), 'tag v1 back');
  assert.equal(ok(await tug('run', '--rm', ref), 'run (present)').stdout, 'v1-as-1000\n');
  const always = ok(await tug('run', '--rm', '--pull', 'always', ref), 'run --pull always');
  assert.equal(always.stdout, 'v2-as-1000\n');
  assert.doesNotMatch(always.stderr, /Unable to find image/);
  assert.match(always.stderr, /Status: Downloaded newer image for/);

  const missingTag = await tug('run', '--rm', `${reg}/app-${rand()}:nope`);
  assert.equal(missingTag.code, 125);
  assert.match(missingTag.stderr, /Unable to find image/);
  assert.match(missingTag.stderr, /^tug: .*(not found|unknown)/m);
});
