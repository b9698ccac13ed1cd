// Bad input to tug compose up, against a real daemon: a host port another
// project holds, a build context that does not exist, an image that cannot
// be pulled. Each gives one clear error line and exit 1; the failing
// service leaves no container behind, and what already ran keeps running.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { LOOP, projectName, setupCompose, type ComposeEnv } from './runtime-helpers.js';

let t: ComposeEnv;
before(async () => {
  t = await setupCompose();
});
after(async () => {
  await t?.cleanup();
});

/** The lines that are not progress (" Container x  Started") or warnings. */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l && !l.startsWith(' ') && !l.startsWith('WARN'));
}

async function containers(dir: string): Promise<string[]> {
  const r = await t.compose(dir, ['ps', '-a', '--format', '{{.Name}} {{.State}}']);
  return r.stdout.trim().split('\n').filter(Boolean).sort();
}

test('a port already taken: one line, no container of the failing service, the rest keeps running', async () => {
  const port = randomInt(20000, 40000);
  const web = `
  web:
    image: busybox
    command: ["sh", "-c", "${LOOP}"]
    network_mode: bridge
    ports: ["${port}:80"]`;
  const first = await t.project('holder', { 'compose.yaml': `services:${web}\n` });
  const up1 = await t.compose(first, ['up', '-d']);
  assert.equal(up1.code, 0, up1.stderr);

  const second = await t.project('clash', {
    'compose.yaml': `services:${web}
  other:
    image: busybox
    command: ["sh", "-c", "${LOOP}"]
    network_mode: bridge
`,
  });
  const p = projectName(second);
  const up2 = await t.compose(second, ['up', '-d']);
  assert.equal(up2.code, 1);
  const errs = errorLines(up2.stderr);
  assert.equal(errs.length, 1, up2.stderr);
  assert.match(errs[0]!, new RegExp(`service "web" failed to start container ${p}-web-1: .*${port}.*already allocated`));
  assert.deepEqual(await containers(second), [`${p}-other-1 running`], 'the failing service left no container');
  assert.deepEqual(await containers(first), [`${projectName(first)}-web-1 running`], 'the holder keeps running');

  // The failure is not sticky: once the port is free, up succeeds.
  assert.equal((await t.compose(first, ['down', '-t', '1'])).code, 0);
  const up3 = await t.compose(second, ['up', '-d']);
  assert.equal(up3.code, 0, up3.stderr);
  assert.deepEqual(await containers(second), [`${p}-other-1 running`, `${p}-web-1 running`]);
  assert.equal((await t.compose(second, ['down', '-t', '1'])).code, 0);
});

test('a missing build context: one line naming the service and the path, nothing created', async () => {
  const dir = await t.project('noctx', {
    'compose.yaml': `
services:
  app:
    build: ./missing-dir
    network_mode: bridge
`,
  });
  const up = await t.compose(dir, ['up', '-d']);
  assert.equal(up.code, 1);
  const errs = errorLines(up.stderr);
  assert.equal(errs.length, 1, up.stderr);
  assert.equal(errs[0], `service "app": build context "${dir}/missing-dir" not found`);
  assert.deepEqual(await containers(dir), []);
});

test('an image that cannot be found: one line naming the service and the image, nothing created', async () => {
  // Port 1 on loopback refuses at once: a registry that is not there, without any outside network.
  const dir = await t.project('noimg', {
    'compose.yaml': `
services:
  ghost:
    image: 127.0.0.1:1/nothing/here:1.0
    network_mode: bridge
`,
  });
  const up = await t.compose(dir, ['up', '-d']);
  assert.equal(up.code, 1);
  const errs = errorLines(up.stderr);
  assert.equal(errs.length, 1, up.stderr);
  assert.match(errs[0]!, /^service "ghost": image "127\.0\.0\.1:1\/nothing\/here:1\.0" cannot be pulled: /);
  assert.deepEqual(await containers(dir), []);

  const never = await t.project('never', {
    'compose.yaml': `
services:
  ghost:
    image: not-here-${projectName(dir)}
    pull_policy: never
    network_mode: bridge
`,
  });
  const up2 = await t.compose(never, ['up', '-d']);
  assert.equal(up2.code, 1);
  assert.deepEqual(errorLines(up2.stderr), [`service "ghost": image "not-here-${projectName(dir)}" not found (pull_policy: never)`]);
});

test('unknown services and bad flags are refused before anything is made', async () => {
  const dir = await t.project('flags', { 'compose.yaml': `services:\n  a:\n    image: busybox\n    network_mode: bridge\n` });
  const r = await t.compose(dir, ['up', '-d', 'nosuch']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no such service: nosuch/);
  const s = await t.compose(dir, ['up', '-d', '--scale', 'a']);
  assert.equal(s.code, 125);
  assert.match(s.stderr, /invalid --scale "a"/);
  assert.deepEqual(await containers(dir), []);
});
