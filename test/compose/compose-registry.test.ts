// tug compose build / push / pull and up's pull of a missing image, against
// a real daemon and a real `tug registry serve` on 127.0.0.1: a service that
// names a registry image and has a build section is built and pushed, its
// local image removed, then pulled back by `pull` and by `up`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { tugBin } from '../helpers/tug-daemon.js';
import { freePort } from '../registry-client/helpers.js';
import { rand, setupCompose, type ComposeEnv } from './runtime-helpers.js';

let t: ComposeEnv;
let registry: ChildProcess | undefined;
let reg: string;

async function startRegistry(root: string): Promise<string> {
  const port = await freePort();
  registry = spawn(process.execPath, [tugBin, 'registry', 'serve', '--addr', `127.0.0.1:${port}`, '--root', root], { stdio: ['ignore', 'ignore', 'ignore'] });
  for (let i = 0; ; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.status === 200, () => false);
    if (up) return `127.0.0.1:${port}`;
    if (i > 300 || registry.exitCode !== null) throw new Error('tug registry serve did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  t = await setupCompose();
  const store = await t.project('registry-store', {});
  reg = await startRegistry(store);
});
after(async () => {
  if (registry && registry.exitCode === null) {
    const exited = new Promise((r) => registry!.once('exit', r));
    registry.kill('SIGTERM');
    await exited;
  }
  await t?.cleanup();
});

test('build, push, pull, and up pulling a missing image', async () => {
  const image = `${reg}/compose-app-${rand()}:1`;
  const dir = await t.project('reg', {
    'app/Dockerfile': 'FROM busybox\nRUN echo pushed > /marker\nCMD ["cat", "/marker"]\n',
    'compose.yaml': `
services:
  app:
    image: ${image}
    build: ./app
    network_mode: bridge
`,
  });
  const build = await t.compose(dir, ['build']);
  assert.equal(build.code, 0, build.stderr);
  assert.equal((await t.tug(dir, ['image', 'inspect', image])).code, 0);

  const push = await t.compose(dir, ['push']);
  assert.equal(push.code, 0, push.stderr);
  assert.ok(push.stderr.includes(` Image ${image}  Pushed`), push.stderr);

  assert.equal((await t.tug(dir, ['rmi', image])).code, 0);
  const pull = await t.compose(dir, ['pull']);
  assert.equal(pull.code, 0, pull.stderr);
  assert.ok(pull.stderr.includes(` Image ${image}  Pulled`), pull.stderr);
  assert.equal((await t.tug(dir, ['image', 'inspect', image])).code, 0);

  // Without the image, up pulls it rather than building (it names an image that exists in the registry).
  assert.equal((await t.tug(dir, ['rmi', image])).code, 0);
  const onlyPull = await t.project('pullonly', { 'compose.yaml': `services:\n  app:\n    image: ${image}\n    network_mode: bridge\n` });
  // Attached, up returns once the container exits, its output shown.
  const up = await t.compose(onlyPull, ['up']);
  assert.equal(up.code, 0, up.stderr);
  assert.ok(up.stderr.includes(` Image ${image}  Pulled`), up.stderr);
  assert.match(up.stdout, /^app-1 +\| pushed$/m);
  assert.equal((await t.compose(onlyPull, ['down'])).code, 0);
  assert.equal((await t.compose(dir, ['down'])).code, 0);
});
