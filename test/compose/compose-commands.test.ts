// tug compose's everyday commands against a real daemon: up -d, ps, logs,
// exec, run (--rm, -e, exit codes, one-off label), stop/start/restart,
// down and down -v, with the labels docker compose writes and a named
// volume's data kept across down/up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { projectName, setupCompose, type ComposeEnv } from './runtime-helpers.js';

let t: ComposeEnv;
before(async () => {
  t = await setupCompose();
});
after(async () => {
  await t?.cleanup();
});

// Services on the default bridge: they do not need user-defined networks.
const APP = `
services:
  db:
    image: busybox
    command: ["sh", "-c", "echo db ready; test -f /data/count || echo 0 > /data/count; trap 'exit 0' TERM; while true; do sleep 0.2; done"]
    network_mode: bridge
    volumes:
      - data:/data
  web:
    image: busybox
    command: ["sh", "-c", "echo web ready; trap 'exit 0' TERM; while true; do sleep 0.2; done"]
    network_mode: bridge
    environment:
      GREETING: hello
    depends_on: [db]
volumes:
  data:
`;

test('up -d, ps, logs, exec, run, stop/start/restart, down -v', async () => {
  const dir = await t.project('cmds', { 'compose.yaml': APP });
  const p = projectName(dir);
  const up = await t.compose(dir, ['up', '-d']);
  assert.equal(up.code, 0, up.stderr);
  for (const line of [` Volume ${p}_data  Created`, ` Container ${p}-db-1  Started`, ` Container ${p}-web-1  Started`]) assert.ok(up.stderr.includes(line), up.stderr);
  assert.ok(up.stderr.indexOf(`Container ${p}-db-1  Started`) < up.stderr.indexOf(`Container ${p}-web-1  Starting`), 'db starts before web');

  // Labels as docker compose writes them, so docker-compose finds the project.
  const labels = JSON.parse(await t.inspect(`${p}-web-1`, '{{json .Config.Labels}}'));
  assert.equal(labels['com.docker.compose.project'], p);
  assert.equal(labels['com.docker.compose.service'], 'web');
  assert.equal(labels['com.docker.compose.container-number'], '1');
  assert.equal(labels['com.docker.compose.oneoff'], 'False');
  assert.equal(labels['com.docker.compose.project.working_dir'], dir);
  assert.equal(labels['com.docker.compose.project.config_files'], `${dir}/compose.yaml`);
  assert.match(labels['com.docker.compose.config-hash'], /^[0-9a-f]{64}$/);
  const volLabels = JSON.parse((await t.tug(dir, ['volume', 'inspect', '-f', '{{json .Labels}}', `${p}_data`])).stdout);
  assert.equal(volLabels['com.docker.compose.project'], p);
  assert.equal(volLabels['com.docker.compose.volume'], 'data');

  const ps = await t.compose(dir, ['ps']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS\n/);
  assert.match(ps.stdout, new RegExp(`${p}-db-1\\s+busybox\\s+.*\\sdb\\s+.*Up`));
  assert.match(ps.stdout, new RegExp(`${p}-web-1\\s+busybox\\s+.*\\sweb\\s+.*Up`));
  assert.equal((await t.compose(dir, ['ps', '--services'])).stdout, 'db\nweb\n');

  const logs = await t.compose(dir, ['logs', '--no-color']);
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /^db-1 +\| db ready$/m);
  assert.match(logs.stdout, /^web-1 +\| web ready$/m);
  assert.equal((await t.compose(dir, ['logs', '--no-log-prefix', 'web'])).stdout, 'web ready\n');
  // Colours on request (a terminal gets them by default), one per container.
  const colored = (await t.compose(dir, ['--ansi', 'always', 'logs', 'db', 'web'])).stdout;
  const colors = [...colored.matchAll(/\x1b\[(\d+)m(db|web)-1 +\| \x1b\[0m/g)].map((m) => `${m[2]}:${m[1]}`);
  assert.equal(new Set(colors).size, 2, colored);
  assert.notEqual(colors[0]!.split(':')[1], colors[1]!.split(':')[1]);
  await t.compose(dir, ['exec', '-T', 'web', 'sh', '-c', 'echo second > /proc/1/fd/1']);
  assert.equal((await t.compose(dir, ['logs', '--no-log-prefix', '--tail', '1', 'web'])).stdout, 'second\n');

  const exec = await t.compose(dir, ['exec', '-T', 'web', 'sh', '-c', 'echo $GREETING; exit 5']);
  assert.equal(exec.stdout, 'hello\n');
  assert.equal(exec.code, 5);

  const run = await t.compose(dir, ['run', '--rm', '-T', '-e', 'EXTRA=x', 'web', 'sh', '-c', 'echo $GREETING-$EXTRA; exit 3']);
  assert.equal(run.stdout, 'hello-x\n', run.stderr);
  assert.equal(run.code, 3);
  const kept = await t.compose(dir, ['run', '-d', 'db', 'true']);
  assert.equal(kept.code, 0, kept.stderr);
  const oneoff = kept.stdout.trim();
  assert.match(oneoff, new RegExp(`^${p}-db-run-[0-9a-f]{12}$`));
  assert.equal(await t.inspect(oneoff, '{{index .Config.Labels "com.docker.compose.oneoff"}}'), 'True');
  assert.equal((await t.compose(dir, ['ps', '--services'])).stdout, 'db\nweb\n', 'one-off containers are not service containers');

  const stop = await t.compose(dir, ['stop']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.ok(stop.stderr.indexOf(`Container ${p}-web-1  Stopped`) < stop.stderr.indexOf(`Container ${p}-db-1  Stopping`), 'dependents stop first');
  assert.equal(await t.inspect(`${p}-web-1`, '{{.State.Status}}'), 'exited');
  assert.equal((await t.compose(dir, ['ps', '-q'])).stdout, '');
  assert.equal((await t.compose(dir, ['start'])).code, 0);
  assert.equal(await t.inspect(`${p}-web-1`, '{{.State.Status}}'), 'running');
  const before = await t.inspect(`${p}-web-1`, '{{.State.StartedAt}}');
  const restart = await t.compose(dir, ['restart', 'web']);
  assert.equal(restart.code, 0, restart.stderr);
  assert.notEqual(await t.inspect(`${p}-web-1`, '{{.State.StartedAt}}'), before);

  const down = await t.compose(dir, ['down', '-v']);
  assert.equal(down.code, 0, down.stderr);
  assert.ok(down.stderr.includes(` Volume ${p}_data  Removed`), down.stderr);
  const left = await t.tug(dir, ['ps', '-a', '-q', '--filter', `label=com.docker.compose.project=${p}`]);
  assert.equal(left.stdout, '', 'down removes one-off containers too');
  assert.equal((await t.tug(dir, ['volume', 'ls', '-q'])).stdout.includes(`${p}_data`), false);
});

test('a named volume keeps its data across down and up; down -v removes it', async () => {
  const dir = await t.project('vol', { 'compose.yaml': APP });
  const p = projectName(dir);
  assert.equal((await t.compose(dir, ['up', '-d', 'db'])).code, 0);
  assert.equal((await t.compose(dir, ['exec', '-T', 'db', 'sh', '-c', 'echo 41 > /data/count'])).code, 0);
  const down = await t.compose(dir, ['down']);
  assert.equal(down.code, 0, down.stderr);
  assert.equal((await t.tug(dir, ['ps', '-a', '-q', '--filter', `name=${p}-db-1`])).stdout, '');
  assert.equal((await t.compose(dir, ['up', '-d', 'db'])).code, 0);
  assert.equal((await t.compose(dir, ['exec', '-T', 'db', 'cat', '/data/count'])).stdout, '41\n');
  assert.equal((await t.compose(dir, ['down', '-v'])).code, 0);
  assert.equal((await t.compose(dir, ['up', '-d', 'db'])).code, 0);
  assert.equal((await t.compose(dir, ['exec', '-T', 'db', 'cat', '/data/count'])).stdout, '0\n');
  assert.equal((await t.compose(dir, ['down', '-v'])).code, 0);
});

test('a project is found by -p alone when there is no compose file', async () => {
  const dir = await t.project('byname', { 'compose.yaml': APP });
  const p = projectName(dir);
  assert.equal((await t.compose(dir, ['up', '-d', 'db'])).code, 0);
  const elsewhere = await t.project('empty', {});
  const ps = await t.compose(elsewhere, ['-p', p, 'ps', '--format', '{{.Name}}']);
  assert.equal(ps.stdout, `${p}-db-1\n`, ps.stderr);
  const down = await t.compose(elsewhere, ['-p', p, 'down', '-v']);
  assert.equal(down.code, 0, down.stderr);
  assert.equal((await t.tug(dir, ['ps', '-a', '-q', '--filter', `label=com.docker.compose.project=${p}`])).stdout, '');
  assert.equal((await t.tug(dir, ['volume', 'ls', '-q'])).stdout.includes(`${p}_data`), false);
});
