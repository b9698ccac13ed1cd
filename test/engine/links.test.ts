// Legacy links (--link name[:alias]) against a real tug daemon through the
// docker CLI and docker-py: /etc/hosts names the target under its alias, the
// <ALIAS>_* variables carry its address, ports and Env, and inspect shows
// HostConfig.Links in dockerd's stored form.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand } from '../helpers/run-command.js';

let d: TestDaemon;
const sfx = randomBytes(3).toString('hex');

const docker = (...args: string[]): ReturnType<typeof runCommand> => runCommand('docker', args, { env: d.env });
async function ok(...args: string[]): Promise<string> {
  const r = await docker(...args);
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.stop();
});

test('--link: hosts line, link variables and the stored form; a stopped or missing target is refused', async () => {
  const target = `lk-db-${sfx}`;
  const linker = `lk-app-${sfx}`;
  await ok('run', '-d', '--name', target, '-e', 'FOO=1', '--expose', '80', 'busybox', 'sleep', '600');
  try {
    const ip = await ok('inspect', '-f', '{{.NetworkSettings.IPAddress}}', target);
    const id12 = (await ok('inspect', '-f', '{{.Id}}', target)).slice(0, 12);
    const out = await ok('run', '--name', linker, '--link', `${target}:db-x`, 'busybox', 'sh', '-c', 'env | grep ^DB_X_ | sort; grep db-x /etc/hosts; ping -c1 -W5 db-x >/dev/null && echo reached');
    assert.deepEqual(out.split('\n'), [
      `DB_X_ENV_FOO=1`,
      `DB_X_NAME=/${linker}/db-x`,
      `DB_X_PORT=tcp://${ip}:80`,
      `DB_X_PORT_80_TCP=tcp://${ip}:80`,
      `DB_X_PORT_80_TCP_ADDR=${ip}`,
      `DB_X_PORT_80_TCP_PORT=80`,
      `DB_X_PORT_80_TCP_PROTO=tcp`,
      `${ip}\tdb-x ${id12} ${target}`,
      'reached',
    ]);
    assert.equal(await ok('inspect', '-f', '{{json .HostConfig.Links}}', linker), `["/${target}:/${linker}/db-x"]`);
    const missing = await docker('create', '--link', `nope-${sfx}:x`, 'busybox');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, new RegExp(`could not get container for nope-${sfx}`));
    await ok('stop', '-t', '0', target);
    const stopped = await docker('start', linker);
    assert.notEqual(stopped.code, 0);
    assert.match(stopped.stderr, new RegExp(`Cannot link to a non running container: /${target} AS /${linker}/db-x`));
  } finally {
    await docker('rm', '-f', linker, target);
  }
});

test('docker-py links={name: alias}, as its integration suite uses them', async () => {
  const script = `
import docker, json
c = docker.from_env(timeout=60).api
made = []
try:
    for _ in range(2):
        r = c.create_container('busybox', 'cat', detach=True, stdin_open=True, environment={'FOO': '1'})
        made.append(r['Id'])
        c.start(r['Id'])
    names = [c.inspect_container(i)['Name'][1:] for i in made]
    r = c.create_container('busybox', 'env', host_config=c.create_host_config(links={names[0]: 'mylink1', names[1]: 'mylink2'}, network_mode='bridge'))
    made.append(r['Id'])
    c.start(r['Id'])
    code = c.wait(r['Id'])['StatusCode']
    print(json.dumps({'code': code, 'logs': c.logs(r['Id']).decode()}))
finally:
    for m in made:
        c.remove_container(m, force=True)
`;
  const r = await runCommand('python3', ['-c', script], { env: d.env });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { code: number; logs: string };
  assert.equal(out.code, 0);
  for (const p of ['MYLINK1', 'MYLINK2']) {
    assert.match(out.logs, new RegExp(`^${p}_NAME=/`, 'm'));
    assert.match(out.logs, new RegExp(`^${p}_ENV_FOO=1$`, 'm'));
  }
});

test('docker rm --link drops only the link, both containers stay; a rename of either end keeps the link', async () => {
  const target = `lk-rm-db-${sfx}`;
  const linker = `lk-rm-app-${sfx}`;
  await ok('run', '-d', '--name', target, 'busybox', 'sleep', '600');
  try {
    await ok('create', '--name', linker, '--link', `${target}:db`, 'busybox');
    assert.equal(await ok('rm', '--link', `${linker}/db`), `${linker}/db`);
    assert.equal(await ok('inspect', '-f', '{{json .HostConfig.Links}}', linker), 'null');
    assert.equal(await ok('inspect', '-f', '{{.State.Running}}', target), 'true');
    const again = await docker('rm', '--link', `${linker}/db`);
    assert.notEqual(again.code, 0, 'the link is gone');
    // Renaming either end keeps the link pointing at the same containers.
    await ok('rm', linker);
    await ok('create', '--name', linker, '--link', `${target}:db`, 'busybox');
    await ok('rename', target, `${target}-2`);
    await ok('rename', linker, `${linker}-2`);
    assert.equal(await ok('inspect', '-f', '{{json .HostConfig.Links}}', `${linker}-2`), `["/${target}-2:/${linker}-2/db"]`);
    await ok('rename', `${target}-2`, target);
    await ok('rename', `${linker}-2`, linker);
  } finally {
    await docker('rm', '-f', linker, target);
  }
});
