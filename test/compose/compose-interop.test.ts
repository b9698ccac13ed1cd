// tug compose and Debian's docker-compose 1.29.2 see each other's projects
// (both find containers by docker compose's labels), against a real tug
// daemon: what one brings up the other lists, scales, recreates and takes down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand } from '../helpers/run-command.js';
import { projectName, setupCompose, type ComposeEnv } from './runtime-helpers.js';

let t: ComposeEnv;
before(async () => {
  t = await setupCompose();
});
after(async () => {
  await t?.cleanup();
});

const FILE = `
services:
  db:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
    network_mode: bridge
    volumes: [data:/data]
  web:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
    network_mode: bridge
    depends_on: [db]
volumes:
  data:
`;

function dockerCompose(dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCommand('docker-compose', ['--project-directory', dir, '-f', `${dir}/compose.yaml`, ...args], { env: t.daemon.env, guardMs: 180_000 });
}

test('docker-compose 1.29.2 lists and removes what tug compose made', async () => {
  const dir = await t.project('interop', { 'compose.yaml': FILE });
  const p = projectName(dir);
  assert.equal((await t.compose(dir, ['up', '-d'])).code, 0);
  const ps = await dockerCompose(dir, ['ps']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, new RegExp(`^${p}-db-1 .*Up`, 'm'));
  assert.match(ps.stdout, new RegExp(`^${p}-web-1 .*Up`, 'm'));
  const down = await dockerCompose(dir, ['down', '-v']);
  assert.equal(down.code, 0, down.stderr);
  assert.equal((await t.compose(dir, ['ps', '-a', '-q'])).stdout, '');
  assert.equal((await t.tug(dir, ['volume', 'ls', '-q'])).stdout.includes(`${p}_data`), false);
});

test('tug compose lists, scales and removes what docker-compose 1.29.2 made', async () => {
  const dir = await t.project('interop2', { 'compose.yaml': FILE });
  const p = projectName(dir);
  const up = await dockerCompose(dir, ['up', '-d']);
  assert.equal(up.code, 0, up.stderr);
  const ps = await t.compose(dir, ['ps', '--format', '{{.Name}} {{.Service}} {{.State}}']);
  assert.equal(ps.stdout, `${p}_db_1 db running\n${p}_web_1 web running\n`);
  // Its containers count by number: scaling to 2 adds number 2 under tug's name.
  const scale = await t.compose(dir, ['up', '-d', '--no-recreate', '--scale', 'web=2']);
  assert.equal(scale.code, 0, scale.stderr);
  assert.match((await t.compose(dir, ['ps', '--format', '{{.Name}}'])).stdout, new RegExp(`^${p}-web-2$`, 'm'));
  const down = await t.compose(dir, ['down', '-v']);
  assert.equal(down.code, 0, down.stderr);
  assert.ok(down.stderr.includes(` Container ${p}_web_1  Removed`), down.stderr);
  assert.equal((await t.tug(dir, ['ps', '-a', '-q', '--filter', `label=com.docker.compose.project=${p}`])).stdout, '');
  assert.equal((await t.tug(dir, ['volume', 'ls', '-q'])).stdout.includes(`${p}_data`), false);
});
