// An image's USER, CMD, ENTRYPOINT, ENV, WORKDIR, EXPOSE, VOLUME, HEALTHCHECK,
// STOPSIGNAL and LABEL apply to containers made through each client: the
// docker CLI (which sends "User": "" and empty lists), docker-py (nulls) and
// tug. Before issue #10's fix the CLI's empty User ran every image as root.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, tugBin, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand, type CommandResult } from '../helpers/run-command.js';

const pyDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/engine/py');
const sfx = randomBytes(3).toString('hex');
let d: TestDaemon;
let tmp: string;

/** USER by name (with a passwd entry), by number, and an image with every inherited field set. */
const named = `defaults-named-${sfx}`;
const numeric = `defaults-numeric-${sfx}`;
const full = `defaults-full-${sfx}`;

const docker = (...args: string[]): Promise<CommandResult> => runCommand('docker', args, { env: d.env });
const tug = (...args: string[]): Promise<CommandResult> => runCommand(process.execPath, [tugBin, ...args], { env: d.env });
function ok(r: CommandResult, what: string): string {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function build(tag: string, dockerfile: string): Promise<void> {
  const ctx = await mkdtemp(join(tmp, 'ctx-'));
  await writeFile(join(ctx, 'Dockerfile'), dockerfile);
  ok(await tug('build', '-q', '-t', tag, ctx), `tug build ${tag}`);
}

before(async () => {
  d = await startTestDaemon();
  tmp = await mkdtemp(join(tmpdir(), 'tug-img-defaults-'));
  await build(
    named,
    `FROM busybox
RUN echo 'app:x:1000:1000:app:/home/app:/bin/sh' >> /etc/passwd && echo 'app:x:1000:' >> /etc/group && mkdir /home/app && chown 1000:1000 /home/app
USER app
RUN id -u > /home/app/uid-at-build
`,
  );
  await build(numeric, 'FROM busybox\nUSER 1000:1000\n');
  await build(
    full,
    `FROM ${named}
ENV IMG_ONLY=from-image SHARED=image
WORKDIR /srv
EXPOSE 8080/tcp 9090/udp
VOLUME /srv/data
HEALTHCHECK --interval=1h --timeout=3s --retries=4 CMD true
STOPSIGNAL SIGUSR1
LABEL org.example.from=image org.example.shared=image
ENTRYPOINT ["/bin/echo", "ep"]
CMD ["default-cmd"]
`,
  );
});
after(async () => {
  if (d) {
    for (const img of [full, numeric, named]) await tug('rmi', '-f', img);
    await d.stop();
  }
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** The Config fields every client must see inherited on a container of `full`. */
function assertInherited(cfg: any, via: string): void {
  assert.equal(cfg.User, 'app', `${via}: User`);
  assert.ok(cfg.Env.includes('IMG_ONLY=from-image'), `${via}: image ENV kept: ${cfg.Env}`);
  assert.ok(cfg.Env.includes('SHARED=user'), `${via}: the request's ENV wins: ${cfg.Env}`);
  assert.ok(!cfg.Env.includes('SHARED=image'), `${via}: one value per key: ${cfg.Env}`);
  assert.ok(cfg.Env.some((e: string) => e.startsWith('PATH=')), `${via}: PATH from the image`);
  assert.equal(cfg.WorkingDir, '/srv', `${via}: WorkingDir`);
  assert.deepEqual(Object.keys(cfg.ExposedPorts).sort(), ['7000/tcp', '8080/tcp', '9090/udp'], `${via}: ExposedPorts`);
  assert.deepEqual(Object.keys(cfg.Volumes).sort(), ['/extra', '/srv/data'], `${via}: Volumes`);
  assert.deepEqual(cfg.Healthcheck.Test, ['CMD-SHELL', 'true'], `${via}: Healthcheck`);
  assert.equal(cfg.Healthcheck.Interval, 3_600_000_000_000, `${via}: Healthcheck interval`);
  assert.equal(cfg.Healthcheck.Retries, 4, `${via}: Healthcheck retries`);
  assert.equal(cfg.StopSignal, 'SIGUSR1', `${via}: StopSignal`);
  assert.equal(cfg.Labels['org.example.from'], 'image', `${via}: image label`);
  assert.equal(cfg.Labels['org.example.shared'], 'user', `${via}: the request's label wins`);
  assert.deepEqual(cfg.Entrypoint, ['/bin/echo', 'ep'], `${via}: Entrypoint`);
  assert.deepEqual(cfg.Cmd, ['default-cmd'], `${via}: Cmd`);
}

test('docker CLI: the image USER applies (named and numeric), -u overrides, exec inherits it, RUN after USER ran as it', async () => {
  assert.equal(ok(await docker('run', '--rm', named, 'sh', '-c', 'id -u; id -g; id -un; echo $HOME'), 'run'), '1000\n1000\napp\n/home/app\n');
  assert.equal(ok(await docker('run', '--rm', numeric, 'sh', '-c', 'id -u; id -g'), 'run numeric'), '1000\n1000\n');
  assert.equal(ok(await docker('run', '--rm', '-u', '0', named, 'id', '-u'), 'run -u 0'), '0\n');
  assert.equal(ok(await docker('run', '--rm', '-u', 'root', numeric, 'id', '-u'), 'run -u root'), '0\n');
  // A USER-less child image inherits its parent's.
  assert.equal(ok(await docker('run', '--rm', '--entrypoint', 'id', full, '-u'), 'run child image'), '1000\n');
  assert.equal(ok(await docker('run', '--rm', named, 'cat', '/home/app/uid-at-build'), 'uid at build'), '1000\n');
  assert.match((await docker('run', '--rm', named, 'touch', '/etc/owned-by-root')).stderr, /Permission denied/);

  const id = ok(await docker('run', '-d', named, 'sleep', '60'), 'run -d').trim();
  assert.equal(ok(await docker('exec', id, 'id', '-u'), 'exec'), '1000\n');
  assert.equal(ok(await docker('exec', '-u', '0', id, 'id', '-u'), 'exec -u 0'), '0\n');
  assert.equal(ok(await docker('inspect', '-f', '{{.Config.User}}', id), 'inspect'), 'app\n');
  ok(await docker('rm', '-f', id), 'rm');
});

test('docker CLI: CMD/ENTRYPOINT rules, and every inherited Config field', async () => {
  assert.equal(ok(await docker('run', '--rm', full), 'run'), 'ep default-cmd\n');
  assert.equal(ok(await docker('run', '--rm', full, 'x', 'y'), 'run args'), 'ep x y\n');
  // An entrypoint of the request's own: the image's CMD was written for the image's entrypoint.
  assert.equal(ok(await docker('run', '--rm', '--entrypoint', '/bin/echo', full), 'run --entrypoint'), '\n');
  assert.equal(ok(await docker('run', '--rm', '--entrypoint', '', full, 'echo', 'hi'), 'run --entrypoint ""'), 'hi\n');
  const none = await docker('run', '--rm', '--entrypoint', '', full);
  assert.equal(none.code, 125);
  assert.match(none.stderr, /no command specified/);

  const name = `full-${sfx}`;
  ok(await docker('create', '--name', name, '-e', 'SHARED=user', '-l', 'org.example.shared=user', '--expose', '7000', '-v', '/extra', full), 'create');
  const [info] = JSON.parse(ok(await docker('inspect', name), 'inspect'));
  assertInherited(info.Config, 'docker CLI');
  assert.ok(info.Mounts.some((m: any) => m.Destination === '/srv/data' && m.Type === 'volume'), `VOLUME mounted: ${JSON.stringify(info.Mounts)}`);
  assert.deepEqual([info.Path, ...info.Args], ['/bin/echo', 'ep', 'default-cmd']);
  ok(await docker('rm', '-v', name), 'rm');

  const env = await docker('run', '--rm', '-e', 'SHARED=user', '--entrypoint', 'sh', full, '-c', 'pwd; id -un; echo $IMG_ONLY $SHARED');
  assert.equal(ok(env, 'run env'), '/srv\napp\nfrom-image user\n');

  // STOPSIGNAL: docker stop sends the image's signal, which this process answers with exit 0.
  const sig = ok(await docker('run', '-d', '--entrypoint', 'sh', full, '-c', 'trap "echo got-usr1; exit 0" USR1; echo ready; while :; do sleep 0.1; done'), 'run -d').trim();
  for (let i = 0; i < 100 && !(await docker('logs', sig)).stdout.includes('ready'); i++) await new Promise((r) => setTimeout(r, 100));
  ok(await docker('stop', sig), 'stop');
  assert.equal(ok(await docker('inspect', '-f', '{{.State.ExitCode}}', sig), 'inspect'), '0\n');
  assert.equal(ok(await docker('logs', sig), 'logs'), 'ready\ngot-usr1\n');
  ok(await docker('rm', '-v', sig), 'rm');
});

test('docker-py: user, command, entrypoint and every inherited Config field', async () => {
  const { stdout } = await promisify(execFile)('python3', [join(pyDir, 'image_defaults.py'), sfx, named, numeric, full], { env: d.env, timeout: 240_000 });
  const r = JSON.parse(stdout);
  assert.equal(r.uid_named, '1000\n');
  assert.equal(r.uid_named_empty_user, '1000\n', "user='' sends \"User\": \"\"");
  assert.equal(r.uid_numeric, '1000 1000\n');
  assert.equal(r.uid_override, '0\n');
  assert.equal(r.default_cmd, 'ep default-cmd\n');
  assert.equal(r.entrypoint_no_cmd, '\n');
  assert.equal(r.entrypoint_reset, 'hi\n');
  assert.deepEqual(r.empty_entrypoint, { Entrypoint: [], Cmd: ['default-cmd'] });
  assert.equal(r.low_level_user, 'app', 'api.create_container sends nulls for every field');
  assertInherited(r.config, 'docker-py');
});

test('tug CLI: user, command, entrypoint and every inherited Config field', async () => {
  assert.equal(ok(await tug('run', '--rm', named, 'id', '-u'), 'tug run'), '1000\n');
  assert.equal(ok(await tug('run', '--rm', '-u', '', numeric, 'id', '-u'), 'tug run -u ""'), '1000\n');
  assert.equal(ok(await tug('run', '--rm', '-u', '0', named, 'id', '-u'), 'tug run -u 0'), '0\n');
  assert.equal(ok(await tug('run', '--rm', full), 'tug run full'), 'ep default-cmd\n');
  assert.equal(ok(await tug('run', '--rm', '--entrypoint', '/bin/echo', full), 'tug run --entrypoint'), '\n');
  assert.equal(ok(await tug('run', '--rm', '--entrypoint', '', full, 'echo', 'hi'), 'tug run --entrypoint ""'), 'hi\n');
  const name = `tugfull-${sfx}`;
  ok(await tug('create', '--name', name, '-e', 'SHARED=user', '-l', 'org.example.shared=user', '--expose', '7000', '-v', '/extra', full), 'tug create');
  const [info] = JSON.parse(ok(await tug('inspect', name), 'tug inspect'));
  assertInherited(info.Config, 'tug');
  ok(await tug('rm', '-v', name), 'tug rm');
});
