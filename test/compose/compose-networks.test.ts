// Compose on user-defined networks, through bin/tug compose against a real
// daemon: up makes <project>_default and the declared networks with docker
// compose's labels, attaches each container with its service name (and its
// aliases) as aliases, several networks per service; a failed up takes back
// the network it made for the failing service; down removes the project's
// networks, and an external network is used but never made or removed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LOOP, projectName, setupCompose, type ComposeEnv } from './runtime-helpers.js';

let t: ComposeEnv;
before(async () => {
  t = await setupCompose();
});
after(async () => {
  await t?.cleanup();
});

async function networks(dir: string, p: string): Promise<string[]> {
  const r = await t.tug(dir, ['network', 'ls', '--format', '{{.Name}}']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((n) => n.startsWith(`${p}_`)).sort();
}

test('up makes the project networks with compose labels and service-name aliases; down removes them', async () => {
  const dir = await t.project('nets', {
    'compose.yaml': `
services:
  db:
    image: busybox
    command: ["sh", "-c", "${LOOP}"]
    networks:
      default:
      back:
        aliases: [database]
  web:
    image: busybox
    command: ["sh", "-c", "${LOOP}"]
    depends_on: [db]
    networks: [back]
networks:
  back:
    labels: {purpose: backend}
`,
  });
  const p = projectName(dir);
  const up = await t.compose(dir, ['up', '-d']);
  assert.equal(up.code, 0, up.stderr);
  assert.ok(up.stderr.includes(` Network ${p}_default  Created`), up.stderr);
  assert.ok(up.stderr.includes(` Network ${p}_back  Created`), up.stderr);
  assert.deepEqual(await networks(dir, p), [`${p}_back`, `${p}_default`]);

  const labels = JSON.parse((await t.tug(dir, ['network', 'inspect', '-f', '{{json .Labels}}', `${p}_back`])).stdout);
  assert.equal(labels['com.docker.compose.project'], p);
  assert.equal(labels['com.docker.compose.network'], 'back');
  assert.equal(labels.purpose, 'backend');

  const dbNets = JSON.parse(await t.inspect(`${p}-db-1`, '{{json .NetworkSettings.Networks}}'));
  assert.deepEqual(Object.keys(dbNets).sort(), [`${p}_back`, `${p}_default`]);
  assert.ok(dbNets[`${p}_back`].Aliases.includes('db'));
  assert.ok(dbNets[`${p}_back`].Aliases.includes('database'));
  assert.ok(dbNets[`${p}_default`].Aliases.includes('db'));
  const webNets = JSON.parse(await t.inspect(`${p}-web-1`, '{{json .NetworkSettings.Networks}}'));
  assert.deepEqual(Object.keys(webNets), [`${p}_back`]);

  // The two share `back`: web reaches db's address there.
  const ip = dbNets[`${p}_back`].IPAddress;
  const ping = await t.compose(dir, ['exec', '-T', 'web', 'ping', '-c', '1', '-W', '2', ip]);
  assert.equal(ping.code, 0, ping.stdout + ping.stderr);

  const down = await t.compose(dir, ['down', '-t', '1']);
  assert.equal(down.code, 0, down.stderr);
  assert.ok(down.stderr.includes(` Network ${p}_back  Removed`), down.stderr);
  assert.deepEqual(await networks(dir, p), []);
});

test('a failed up removes the network it made for the failing service; what runs keeps running', async () => {
  const dir = await t.project('netfail', {
    'compose.yaml': `
services:
  ok:
    image: busybox
    command: ["sh", "-c", "${LOOP}"]
`,
    'bad.yaml': `
services:
  bad:
    image: 127.0.0.1:1/nothing:1
    networks: [only]
networks:
  only:
`,
  });
  const p = projectName(dir);
  assert.equal((await t.compose(dir, ['up', '-d'])).code, 0);
  const bad = await t.compose(dir, ['-p', p, '-f', 'bad.yaml', 'up', '-d']);
  assert.equal(bad.code, 1);
  assert.ok(bad.stderr.includes(` Network ${p}_only  Created`), bad.stderr);
  assert.deepEqual(await networks(dir, p), [`${p}_default`], 'the network made for the failed service is gone');
  assert.equal(await t.inspect(`${p}-ok-1`, '{{.State.Status}}'), 'running');
  assert.equal((await t.compose(dir, ['down', '-t', '1'])).code, 0);
});

test('an external network is used, never made or removed; a missing one is one clear error', async () => {
  const dir = await t.project('ext', {
    'compose.yaml': `
services:
  s:
    image: busybox
    command: ["sh", "-c", "${LOOP}"]
    networks: [shared]
networks:
  shared:
    external: true
    name: extnet-PLACEHOLDER
`,
  });
  const p = projectName(dir);
  const net = `extnet-${p}`;
  const { readFile, writeFile } = await import('node:fs/promises');
  const file = `${dir}/compose.yaml`;
  await writeFile(file, (await readFile(file, 'utf8')).replace('extnet-PLACEHOLDER', net));
  const missing = await t.compose(dir, ['up', '-d']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, new RegExp(`network ${net} declared as external, but could not be found`));
  assert.equal((await t.tug(dir, ['network', 'create', net])).code, 0);
  const up = await t.compose(dir, ['up', '-d']);
  assert.equal(up.code, 0, up.stderr);
  assert.deepEqual(Object.keys(JSON.parse(await t.inspect(`${p}-s-1`, '{{json .NetworkSettings.Networks}}'))), [net]);
  assert.equal((await t.compose(dir, ['down', '-t', '1'])).code, 0);
  assert.equal((await t.tug(dir, ['network', 'inspect', net])).code, 0, 'down leaves an external network alone');
  assert.equal((await t.tug(dir, ['network', 'rm', net])).code, 0);
});
