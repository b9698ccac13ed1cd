// Convergence as docker compose does it, through bin/tug compose against a
// real daemon: a second up changes nothing, a config change recreates only
// that service (--force-recreate all, --no-recreate none), --scale and
// deploy.replicas add and remove containers by number, depends_on
// service_healthy and service_completed_successfully hold a service back
// until the condition is met, and --remove-orphans removes a dropped service.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LOOP, projectName, setupCompose, type ComposeEnv } from './runtime-helpers.js';

let t: ComposeEnv;
before(async () => {
  t = await setupCompose();
});
after(async () => {
  await t?.cleanup();
});

function app(webEnv: string, replicas = 1): string {
  return `
services:
  api:
    image: busybox
    command: ["sh", "-c", "${LOOP}"]
    network_mode: bridge
    deploy:
      replicas: ${replicas}
  web:
    image: busybox
    command: ["sh", "-c", "${LOOP}"]
    network_mode: bridge
    environment:
      MODE: ${webEnv}
`;
}

async function ids(dir: string): Promise<Record<string, string>> {
  const r = await t.compose(dir, ['ps', '-a', '--format', '{{.Name}} {{.ID}}']);
  assert.equal(r.code, 0, r.stderr);
  return Object.fromEntries(r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
}

test('up recreates only services whose config changed', async () => {
  const dir = await t.project('conv', { 'compose.yaml': app('one') });
  const p = projectName(dir);
  assert.equal((await t.compose(dir, ['up', '-d'])).code, 0);
  const first = await ids(dir);
  assert.deepEqual(Object.keys(first).sort(), [`${p}-api-1`, `${p}-web-1`]);

  const again = await t.compose(dir, ['up', '-d']);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(again.stderr.includes(` Container ${p}-web-1  Running`), again.stderr);
  assert.deepEqual(await ids(dir), first, 'nothing changed, nothing recreated');

  await writeFile(join(dir, 'compose.yaml'), app('two'));
  const changed = await t.compose(dir, ['up', '-d']);
  assert.equal(changed.code, 0, changed.stderr);
  assert.ok(changed.stderr.includes(` Container ${p}-web-1  Recreated`), changed.stderr);
  const second = await ids(dir);
  assert.equal(second[`${p}-api-1`], first[`${p}-api-1`]);
  assert.notEqual(second[`${p}-web-1`], first[`${p}-web-1`]);
  assert.ok((await t.inspect(`${p}-web-1`, '{{json .Config.Env}}')).includes('MODE=two'));

  await writeFile(join(dir, 'compose.yaml'), app('three'));
  assert.equal((await t.compose(dir, ['up', '-d', '--no-recreate'])).code, 0);
  assert.deepEqual(await ids(dir), second, '--no-recreate keeps the outdated container');

  assert.equal((await t.compose(dir, ['up', '-d', '--force-recreate', 'api'])).code, 0);
  const third = await ids(dir);
  assert.notEqual(third[`${p}-api-1`], second[`${p}-api-1`]);
  assert.equal(third[`${p}-web-1`], second[`${p}-web-1`], 'only the named service is forced');
  assert.equal((await t.compose(dir, ['down', '-t', '1'])).code, 0);
});

test('depends_on restart: true restarts the dependent when its dependency is recreated', async () => {
  const file = (mode: string): string => `
services:
  api:
    image: busybox
    command: ["sh", "-c", "${LOOP}"]
    network_mode: bridge
    environment:
      MODE: ${mode}
  web:
    image: busybox
    command: ["sh", "-c", "${LOOP}"]
    network_mode: bridge
    depends_on:
      api:
        condition: service_started
        restart: true
`;
  const dir = await t.project('rdep', { 'compose.yaml': file('a') });
  const p = projectName(dir);
  assert.equal((await t.compose(dir, ['up', '-d'])).code, 0);
  const webId = await t.inspect(`${p}-web-1`, '{{.Id}}');
  const started = await t.inspect(`${p}-web-1`, '{{.State.StartedAt}}');
  await writeFile(join(dir, 'compose.yaml'), file('b'));
  const up = await t.compose(dir, ['up', '-d', '-t', '1']);
  assert.equal(up.code, 0, up.stderr);
  assert.ok(up.stderr.includes(` Container ${p}-api-1  Recreated`), up.stderr);
  assert.ok(up.stderr.includes(` Container ${p}-web-1  Restarted`), up.stderr);
  assert.equal(await t.inspect(`${p}-web-1`, '{{.Id}}'), webId, 'restarted, not recreated');
  assert.notEqual(await t.inspect(`${p}-web-1`, '{{.State.StartedAt}}'), started);
  const quiet = await t.compose(dir, ['up', '-d']);
  assert.ok(quiet.stderr.includes(` Container ${p}-web-1  Running`), 'no restart when nothing was recreated');
  assert.equal((await t.compose(dir, ['down', '-t', '1'])).code, 0);
});

test('recreating keeps the anonymous volume of the replaced container', async () => {
  const file = (mode: string): string => `
services:
  cache:
    image: busybox
    command: ["sh", "-c", "${LOOP}"]
    network_mode: bridge
    environment:
      MODE: ${mode}
    volumes:
      - /cache
`;
  const dir = await t.project('anon', { 'compose.yaml': file('a') });
  const p = projectName(dir);
  assert.equal((await t.compose(dir, ['up', '-d'])).code, 0);
  assert.equal((await t.compose(dir, ['exec', '-T', 'cache', 'sh', '-c', 'echo kept > /cache/f'])).code, 0);
  const volume = await t.inspect(`${p}-cache-1`, '{{range .Mounts}}{{.Name}}{{end}}');
  await writeFile(join(dir, 'compose.yaml'), file('b'));
  const up = await t.compose(dir, ['up', '-d']);
  assert.ok(up.stderr.includes(` Container ${p}-cache-1  Recreated`), up.stderr);
  assert.equal(await t.inspect(`${p}-cache-1`, '{{range .Mounts}}{{.Name}}{{end}}'), volume);
  assert.equal((await t.compose(dir, ['exec', '-T', 'cache', 'cat', '/cache/f'])).stdout, 'kept\n');
  assert.equal((await t.compose(dir, ['down', '-v', '-t', '1'])).code, 0);
  assert.equal((await t.tug(dir, ['volume', 'ls', '-q'])).stdout.includes(volume), false, 'down -v removes the anonymous volume');
});

test('scale up and down by container number (--scale and deploy.replicas)', async () => {
  const dir = await t.project('scale', { 'compose.yaml': app('x', 2) });
  const p = projectName(dir);
  assert.equal((await t.compose(dir, ['up', '-d'])).code, 0);
  assert.deepEqual(Object.keys(await ids(dir)).sort(), [`${p}-api-1`, `${p}-api-2`, `${p}-web-1`]);

  const up = await t.compose(dir, ['up', '-d', '--scale', 'api=4']);
  assert.equal(up.code, 0, up.stderr);
  const four = await ids(dir);
  assert.deepEqual(Object.keys(four).sort(), [`${p}-api-1`, `${p}-api-2`, `${p}-api-3`, `${p}-api-4`, `${p}-web-1`]);
  assert.equal(await t.inspect(`${p}-api-4`, '{{index .Config.Labels "com.docker.compose.container-number"}}'), '4');

  const downTo1 = await t.compose(dir, ['up', '-d', '--scale', 'api=1']);
  assert.equal(downTo1.code, 0, downTo1.stderr);
  const one = await ids(dir);
  assert.deepEqual(Object.keys(one).sort(), [`${p}-api-1`, `${p}-web-1`], 'the highest numbers go first');
  assert.equal(one[`${p}-api-1`], four[`${p}-api-1`], 'the kept container is not recreated');
  assert.equal((await t.compose(dir, ['down', '-t', '1'])).code, 0);
});

test('depends_on service_healthy and service_completed_successfully hold the dependent back', async () => {
  // db makes /shared/ready only after a while; its healthcheck tests for it.
  // init writes /shared/init and exits 0. web records what it found at start.
  const dir = await t.project('deps', {
    'compose.yaml': `
services:
  db:
    image: busybox
    command: ["sh", "-c", "sleep 2; touch /shared/ready; ${LOOP}"]
    network_mode: bridge
    volumes: [shared:/shared]
    healthcheck:
      test: ["CMD", "test", "-f", "/shared/ready"]
      interval: 1s
      retries: 30
  init:
    image: busybox
    command: ["sh", "-c", "sleep 1; echo done > /shared/init"]
    network_mode: bridge
    volumes: [shared:/shared]
  web:
    image: busybox
    command: ["sh", "-c", "if test -f /shared/ready; then echo db-was-ready; fi; cat /shared/init; ${LOOP}"]
    network_mode: bridge
    volumes: [shared:/shared]
    depends_on:
      db:
        condition: service_healthy
      init:
        condition: service_completed_successfully
volumes:
  shared:
`,
  });
  const p = projectName(dir);
  const up = await t.compose(dir, ['up', '-d']);
  assert.equal(up.code, 0, up.stderr);
  assert.ok(up.stderr.includes(` Container ${p}-db-1  Healthy`), up.stderr);
  assert.ok(up.stderr.indexOf(`Container ${p}-db-1  Healthy`) < up.stderr.indexOf(`Container ${p}-web-1  Creating`), up.stderr);
  const logs = await t.compose(dir, ['logs', '--no-log-prefix', 'web']);
  assert.equal(logs.stdout, 'db-was-ready\ndone\n');

  // start waits for the same conditions.
  assert.equal((await t.compose(dir, ['stop', '-t', '1'])).code, 0);
  const start = await t.compose(dir, ['start']);
  assert.equal(start.code, 0, start.stderr);
  assert.ok(start.stderr.indexOf(`Container ${p}-db-1  Healthy`) >= 0, start.stderr);
  assert.ok(start.stderr.indexOf(`Container ${p}-db-1  Healthy`) < start.stderr.indexOf(`Container ${p}-web-1  Starting`), start.stderr);
  assert.ok(start.stderr.indexOf(`Container ${p}-init-1  Exited`) < start.stderr.indexOf(`Container ${p}-web-1  Starting`), start.stderr);
  assert.equal((await t.compose(dir, ['down', '-v', '-t', '1'])).code, 0);
});

test('a dependency that fails its condition stops the dependent from starting', async () => {
  const dir = await t.project('depfail', {
    'compose.yaml': `
services:
  init:
    image: busybox
    command: ["sh", "-c", "exit 2"]
    network_mode: bridge
  web:
    image: busybox
    command: ["sh", "-c", "${LOOP}"]
    network_mode: bridge
    depends_on:
      init:
        condition: service_completed_successfully
`,
  });
  const p = projectName(dir);
  const up = await t.compose(dir, ['up', '-d']);
  assert.equal(up.code, 1);
  assert.match(up.stderr, /service "init" didn't complete successfully: exit 2/);
  const names = Object.keys(await ids(dir));
  assert.deepEqual(names, [`${p}-init-1`], 'web was never created');
  assert.equal((await t.compose(dir, ['down'])).code, 0);
});

test('up --wait fails with one line when a container never becomes healthy', async () => {
  const dir = await t.project('sick', {
    'compose.yaml': `
services:
  sick:
    image: busybox
    command: ["sh", "-c", "${LOOP}"]
    network_mode: bridge
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 1000
`,
  });
  const up = await t.compose(dir, ['up', '-d', '--wait', '--wait-timeout', '2']);
  assert.equal(up.code, 1);
  assert.match(up.stderr, /^application not healthy after 2s$/m);
  assert.equal((await t.compose(dir, ['down', '-t', '1'])).code, 0);
});

test('--remove-orphans removes the containers of a service dropped from the file', async () => {
  const dir = await t.project('orph', { 'compose.yaml': app('x') });
  const p = projectName(dir);
  assert.equal((await t.compose(dir, ['up', '-d'])).code, 0);
  await writeFile(
    join(dir, 'compose.yaml'),
    `services:\n  web:\n    image: busybox\n    command: ["sh", "-c", "${LOOP}"]\n    network_mode: bridge\n    environment:\n      MODE: x\n`,
  );
  const warned = await t.compose(dir, ['up', '-d']);
  assert.equal(warned.code, 0, warned.stderr);
  assert.match(warned.stderr, new RegExp(`Found orphan containers \\(\\[${p}-api-1\\]\\)`));
  assert.ok(Object.keys(await ids(dir)).includes(`${p}-api-1`));
  const removed = await t.compose(dir, ['up', '-d', '--remove-orphans', '-t', '1']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(Object.keys(await ids(dir)), [`${p}-web-1`]);
  assert.equal((await t.compose(dir, ['down', '-t', '1'])).code, 0);
});
