// Debian's docker-compose 1.29.2 against a tug daemon with user-defined
// networks: the project's networks (and its default one) made with compose's
// labels, each container attached with its service name as an alias, --scale
// up and down, a recreate that keeps the attachments, events and top, and
// down removing networks, volumes and containers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand } from '../helpers/run-command.js';
import { dockerComposeIn, writeFiles, type ComposeRunner } from './compose-helpers.js';

let d: TestDaemon;
let dir: string;
let dc: ComposeRunner;
const project = 'dcnets';

const composeFile = (x: string): string => `services:
  a:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    environment:
      X: "${x}"
    networks: [front, back]
    volumes: [data:/data]
  b:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    depends_on: [a]
  c:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    networks:
      back:
        aliases: [cee]
networks:
  front: {}
  back:
    labels:
      tier: back
volumes:
  data: {}
`;

async function docker(args: string[]): Promise<string> {
  const r = await runCommand('docker', args, { env: d.env });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

async function inspect(kind: 'container' | 'network', name: string): Promise<Record<string, any>> {
  return (JSON.parse(await docker([kind, 'inspect', name])) as Array<Record<string, any>>)[0]!;
}

async function ok(args: string[]): Promise<string> {
  const r = await dc(args);
  assert.equal(r.code, 0, `docker-compose ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /Traceback|KeyError/);
  return r.stdout + r.stderr;
}

before(async () => {
  d = await startTestDaemon();
  dir = await mkdtemp(join(tmpdir(), 'tug-dc-nets-'));
  dc = dockerComposeIn(d, dir, project);
  await writeFiles(dir, { 'compose.yaml': composeFile('1') });
});
after(async () => {
  await dc?.(['down', '-v', '-t', '0']).catch(() => undefined);
  await d?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('up makes the networks with compose labels and attaches each service under its name', async () => {
  const up = await ok(['up', '-d']);
  for (const n of ['front', 'back', 'default']) assert.match(up, new RegExp(`Creating network "${project}_${n}" with the default driver`));
  const back = await inspect('network', `${project}_back`);
  assert.equal(back.Labels['com.docker.compose.project'], project);
  assert.equal(back.Labels['com.docker.compose.network'], 'back');
  assert.equal(back.Labels.tier, 'back');
  const a = await inspect('container', `${project}_a_1`);
  assert.deepEqual(Object.keys(a.NetworkSettings.Networks).sort(), [`${project}_back`, `${project}_front`]);
  assert.ok(a.NetworkSettings.Networks[`${project}_back`].Aliases.includes('a'));
  const c = await inspect('container', `${project}_c_1`);
  assert.ok(c.NetworkSettings.Networks[`${project}_back`].Aliases.includes('cee'));
  const b = await inspect('container', `${project}_b_1`);
  assert.deepEqual(Object.keys(b.NetworkSettings.Networks), [`${project}_default`]);
  assert.match(b.NetworkSettings.Networks[`${project}_default`].IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
  // Over the network: b's address answers from a container on the same network.
  const ping = await ok(['exec', '-T', 'b', 'ping', '-c', '1', '-W', '5', b.NetworkSettings.Networks[`${project}_default`].Gateway]);
  assert.match(ping, /1 packets received/);
});

test('--scale adds and removes numbered containers; a recreate keeps the attachments', async () => {
  await ok(['up', '-d', '--scale', 'c=3']);
  const ids = (await ok(['ps', '-q', 'c'])).trim().split('\n');
  assert.equal(ids.length, 3);
  const c3 = await inspect('container', `${project}_c_3`);
  assert.equal(c3.Config.Labels['com.docker.compose.container-number'], '3');
  await ok(['up', '-d', '--scale', 'c=1']);
  assert.equal((await ok(['ps', '-q', 'c'])).trim().split('\n').length, 1);

  await writeFiles(dir, { 'compose.yaml': composeFile('2') });
  const up = await ok(['up', '-d']);
  assert.match(up, /Recreating dcnets_a_1 \.\.\. done/);
  const a = await inspect('container', `${project}_a_1`);
  assert.equal(a.Config.Env.includes('X=2'), true);
  assert.deepEqual(Object.keys(a.NetworkSettings.Networks).sort(), [`${project}_back`, `${project}_front`]);
  assert.match(await ok(['top', 'a']), /sleep 1000/);
});

test('down -v removes the containers, the networks and the volume', async () => {
  const down = await ok(['down', '-v', '-t', '1']);
  for (const n of ['front', 'back', 'default']) assert.match(down, new RegExp(`Removing network ${project}_${n}`));
  assert.equal(await docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]), '');
  assert.equal(await docker(['network', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`]), '');
  assert.doesNotMatch(await docker(['volume', 'ls', '-q']), new RegExp(`${project}_data`));
});
