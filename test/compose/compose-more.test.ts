// The rest of tug compose's commands against a real daemon: up --build and
// build through the engine's /build, config, images, top, port, ls,
// pause/unpause, kill, rm, cp, events, version, down --rmi local, and
// up's attached mode (logs behind prefixes; --abort-on-container-exit
// with the exited container's code; Ctrl-C stops the project).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tugBin } from '../helpers/tug-daemon.js';
import { LOOP, projectName, setupCompose, type ComposeEnv } from './runtime-helpers.js';

let t: ComposeEnv;
before(async () => {
  t = await setupCompose();
});
after(async () => {
  await t?.cleanup();
});

/** bin/tug compose in the background; resolves `seen` once stdout matches. */
function background(dir: string, args: string[], waitFor: RegExp): { seen: Promise<void>; exited: Promise<{ code: number | null; stdout: string; stderr: string }>; signal(s: NodeJS.Signals): void } {
  const child = spawn(process.execPath, [tugBin, 'compose', ...args], { cwd: dir, env: t.daemon.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let resolveSeen!: () => void;
  const seen = new Promise<void>((r) => (resolveSeen = r));
  child.stdout.on('data', (b: Buffer) => {
    stdout += b.toString();
    if (waitFor.test(stdout)) resolveSeen();
  });
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) => child.on('close', (code) => r({ code, stdout, stderr })));
  // A command that ends before printing what the test waits for fails the wait, not the timeout.
  void exited.then(() => resolveSeen());
  return { seen, exited, signal: (s) => child.kill(s) };
}

test('up --build, config, images, top, port, ls, pause/unpause, kill, rm, cp, version, down --rmi local', async () => {
  const dir = await t.project('more', {
    'app/Dockerfile': `FROM busybox\nRUN echo built > /built\nCMD ["sh", "-c", "cat /built; ${LOOP.replace(/"/g, '\\"')}"]\n`,
    'compose.yaml': `
services:
  app:
    build: ./app
    network_mode: bridge
    ports: ["80"]
`,
  });
  const p = projectName(dir);
  const up = await t.compose(dir, ['up', '-d', '--build']);
  assert.equal(up.code, 0, up.stderr);
  assert.ok(up.stderr.includes(' Service app  Built'), up.stderr);
  assert.equal((await t.compose(dir, ['logs', '--no-log-prefix'])).stdout, 'built\n');
  assert.equal(await t.inspect(`${p}-app-1`, '{{.Config.Image}}'), `${p}-app`);
  const again = await t.compose(dir, ['up', '-d']);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(!again.stderr.includes('Building'), 'an image that exists is not built again without --build');
  assert.ok(again.stderr.includes(` Container ${p}-app-1  Running`), again.stderr);

  const build = await t.compose(dir, ['build']);
  assert.equal(build.code, 0, build.stderr);
  assert.match(build.stderr, /Service app {2}Built/);

  const config = await t.compose(dir, ['config']);
  assert.equal(config.code, 0, config.stderr);
  assert.match(config.stdout, new RegExp(`^name: ${p}\\nservices:\\n  app:\\n    build:\\n      context: ${dir}/app\\n`));
  assert.equal((await t.compose(dir, ['config', '--services'])).stdout, 'app\n');
  const asJson = JSON.parse((await t.compose(dir, ['config', '--format', 'json'])).stdout);
  assert.equal(asJson.services.app.network_mode, 'bridge');
  const hash = (await t.compose(dir, ['config', '--hash', 'app'])).stdout.trim().split(' ');
  assert.equal(hash[1], await t.inspect(`${p}-app-1`, '{{index .Config.Labels "com.docker.compose.config-hash"}}'));

  const images = await t.compose(dir, ['images']);
  assert.match(images.stdout, /^CONTAINER\s+REPOSITORY\s+TAG\s+IMAGE ID\s+SIZE\n/);
  assert.match(images.stdout, new RegExp(`${p}-app-1\\s+${p}-app\\s+latest\\s+[0-9a-f]{12}\\s`));

  const top = await t.compose(dir, ['top']);
  assert.match(top.stdout, new RegExp(`^${p}-app-1\\nUID\\s+PID\\s+PPID`));
  assert.match(top.stdout, /sleep 0\.2|while true/);

  const port = await t.compose(dir, ['port', 'app', '80']);
  assert.equal(port.code, 0, port.stderr);
  const published = /^0\.0\.0\.0:(\d+)\n$/.exec(port.stdout);
  assert.ok(published, port.stdout);
  const ports = JSON.parse(await t.inspect(`${p}-app-1`, '{{json .NetworkSettings.Ports}}'));
  assert.equal(ports['80/tcp'][0].HostPort, published[1]);

  const ls = await t.compose(dir, ['ls']);
  assert.match(ls.stdout, new RegExp(`^${p}\\s+running\\(1\\)\\s+${dir}/compose.yaml$`, 'm'));

  assert.equal((await t.compose(dir, ['pause'])).code, 0);
  assert.equal(await t.inspect(`${p}-app-1`, '{{.State.Status}}'), 'paused');
  assert.equal((await t.compose(dir, ['unpause'])).code, 0);
  assert.equal(await t.inspect(`${p}-app-1`, '{{.State.Status}}'), 'running');

  const cp = await t.compose(dir, ['cp', 'compose.yaml', 'app:/tmp/copied.yaml']);
  assert.equal(cp.code, 0, cp.stderr);
  assert.equal((await t.compose(dir, ['exec', '-T', 'app', 'cat', '/tmp/copied.yaml'])).stdout, await readFile(join(dir, 'compose.yaml'), 'utf8'));
  const back = await t.compose(dir, ['cp', 'app:/built', join(dir, 'built.txt')]);
  assert.equal(back.code, 0, back.stderr);
  assert.equal(await readFile(join(dir, 'built.txt'), 'utf8'), 'built\n');

  const kill = await t.compose(dir, ['kill', '-s', 'KILL']);
  assert.equal(kill.code, 0, kill.stderr);
  assert.equal(await t.inspect(`${p}-app-1`, '{{.State.ExitCode}}'), '137');
  const rm = await t.compose(dir, ['rm', '-f']);
  assert.equal(rm.code, 0, rm.stderr);
  assert.ok(rm.stderr.includes(` Container ${p}-app-1  Removed`), rm.stderr);
  assert.equal((await t.compose(dir, ['ps', '-a', '-q'])).stdout, '');

  assert.match((await t.compose(dir, ['version'])).stdout, /^tug compose version v\d+\.\d+\.\d+\n$/);
  assert.match((await t.compose(dir, ['version', '--short'])).stdout, /^\d+\.\d+\.\d+\n$/);

  const down = await t.compose(dir, ['down', '--rmi', 'local']);
  assert.equal(down.code, 0, down.stderr);
  assert.ok(down.stderr.includes(` Image ${p}-app  Removed`), down.stderr);
  assert.equal((await t.tug(dir, ['image', 'inspect', `${p}-app`])).code, 1);
});

test('rm -s stops first; events streams the project\'s container events', async () => {
  const dir = await t.project('ev', { 'compose.yaml': `services:\n  s:\n    image: busybox\n    command: ["sh", "-c", "${LOOP}"]\n    network_mode: bridge\n` });
  const p = projectName(dir);
  assert.equal((await t.compose(dir, ['up', '-d'])).code, 0);
  const events = background(dir, ['events', '--json'], /"action":"restart"/);
  // The stream may open after the first restart: restart until one is seen (the loop only bounds a hang).
  let seen = false;
  void events.seen.then(() => (seen = true));
  for (let i = 0; i < 30 && !seen; i++) {
    assert.equal((await t.compose(dir, ['restart', '-t', '1'])).code, 0);
    await Promise.race([events.seen, new Promise((r) => setTimeout(r, 300))]);
  }
  events.signal('SIGTERM');
  const out = await events.exited;
  const restart = out.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.action === 'restart');
  assert.ok(restart, out.stdout);
  assert.equal(restart.service, 's');
  assert.equal(restart.type, 'container');
  assert.equal(restart.attributes.name, `${p}-s-1`);

  const rm = await t.compose(dir, ['rm', '-s', '-f']);
  assert.equal(rm.code, 0, rm.stderr);
  assert.ok(rm.stderr.indexOf('Stopped') < rm.stderr.indexOf('Removed'), rm.stderr);
  assert.equal((await t.compose(dir, ['ps', '-a', '-q'])).stdout, '');
});

test('attached up: prefixed logs, --abort-on-container-exit returns the exit code, Ctrl-C stops the project', async () => {
  const dir = await t.project('att', {
    'compose.yaml': `
services:
  short:
    image: busybox
    command: ["sh", "-c", "echo short says hi; sleep 1; exit 4"]
    network_mode: bridge
  long:
    image: busybox
    command: ["sh", "-c", "echo long says hi; ${LOOP}"]
    network_mode: bridge
`,
  });
  const p = projectName(dir);
  const abort = await t.compose(dir, ['up', '--abort-on-container-exit']);
  assert.equal(abort.code, 4, abort.stderr);
  assert.match(abort.stdout, /^Attaching to long-1, short-1$/m);
  assert.match(abort.stdout, /^short-1 +\| short says hi$/m);
  assert.match(abort.stdout, /^long-1 +\| long says hi$/m);
  assert.match(abort.stdout, /^short-1 exited with code 4$/m);
  assert.equal(await t.inspect(`${p}-long-1`, '{{.State.Status}}'), 'exited', 'the others were stopped');

  const attached = background(dir, ['up', 'long'], /long-1 +\| long says hi/);
  await attached.seen;
  attached.signal('SIGINT');
  const out = await attached.exited;
  assert.match(out.stderr, /Gracefully stopping\.\.\./);
  assert.equal(out.stdout.match(/long says hi/g)?.length, 1, 'a restarted container shows only its new output');
  assert.equal(await t.inspect(`${p}-long-1`, '{{.State.Status}}'), 'exited');
  assert.equal((await t.compose(dir, ['down'])).code, 0);
});

test('attached up follows a container its restart policy brings back', async () => {
  const dir = await t.project('flaky', {
    'compose.yaml': `
services:
  flaky:
    image: busybox
    command: ["sh", "-c", "echo attempt; exit 1"]
    network_mode: bridge
    restart: on-failure:2
`,
  });
  const up = await t.compose(dir, ['up']);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(up.stdout.match(/^flaky-1 +\| attempt$/gm)?.length, 3, up.stdout);
  assert.match(up.stdout, /^flaky-1 exited with code 1$/m);
  assert.equal((await t.compose(dir, ['down'])).code, 0);
});
