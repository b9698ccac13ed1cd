// Images put into a registry by skopeo (OCI layouts, a multi-arch index, a
// real Docker's docker-save archive) pulled by tug and run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { startTestRegistry, skopeo, buildOciLayout } from '../registry/helpers.js';
import { buildBusyboxLayout, docker, ok, rand, run, tug } from './helpers.js';
import { tugBin } from '../helpers/tug-daemon.js';

// One daemon for the file: each test uses its own registry and unique names.
let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.stop();
});

const fixture = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/image/fixtures/tiny-docker-save.tar');

test('skopeo-copied OCI layouts: tug pull runs them; an index yields linux/amd64 unless --platform says otherwise', async (t) => {
  const reg = await startTestRegistry();
  t.after(() => reg.stop());
  const work = await mkdtemp(join(tmpdir(), 'tug-rc-skopeo-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const env = { ...d.env, DOCKER_CONFIG: join(work, 'dockercfg') };

  await buildBusyboxLayout(join(work, 'single'), 'v1');
  const single = `${reg.hostPort}/oci/single${rand()}:v1`;
  await skopeo(['copy', '-q', '--dest-tls-verify=false', `oci:${join(work, 'single')}:v1`, `docker://${single}`]);
  const pulled = ok(await tug(env, ['pull', single]), 'tug pull');
  assert.match(pulled.stdout, /Pull complete/);
  assert.match(pulled.stdout, /Status: Downloaded newer image for/);
  assert.equal(pulled.stdout.trim().split('\n').at(-1), single);
  const ran = ok(await tug(env, ['run', '--rm', single, 'echo', 'hello-from-oci']), 'tug run');
  assert.equal(ran.stdout.trim(), 'hello-from-oci');
  // Two pulls at once of an image with a new layer: both succeed, sharing one download.
  const twin = `${reg.hostPort}/oci/twin${rand()}:v1`;
  await buildOciLayout(join(work, 'twin'), 'v1', { bytesPerLayer: 2 * 1024 * 1024 });
  await skopeo(['copy', '-q', '--dest-tls-verify=false', `oci:${join(work, 'twin')}:v1`, `docker://${twin}`]);
  const both = await Promise.all([tug(env, ['pull', twin]), tug(env, ['pull', twin])]);
  both.forEach((r, i) => ok(r, `concurrent tug pull ${i}`));
  // Pulling again changes nothing.
  assert.match(ok(await tug(env, ['pull', single]), 'tug pull again').stdout, /Image is up to date for/);

  await buildBusyboxLayout(join(work, 'multi'), 'v2', ['arm64', 'amd64', 's390x']);
  const multi = `${reg.hostPort}/oci/multi${rand()}:v2`;
  await skopeo(['copy', '-q', '--all', '--dest-tls-verify=false', `oci:${join(work, 'multi')}:v2`, `docker://${multi}`]);
  ok(await tug(env, ['pull', multi]), 'tug pull index');
  const amd = JSON.parse(ok(await docker(env, ['image', 'inspect', multi]), 'inspect').stdout)[0];
  assert.equal(amd.Architecture, 'amd64');
  assert.equal(amd.Config.Labels.arch, 'amd64');
  const arm = `${reg.hostPort}/oci/multi-arm${rand()}:v2`;
  await skopeo(['copy', '-q', '--all', '--dest-tls-verify=false', `oci:${join(work, 'multi')}:v2`, `docker://${arm}`]);
  ok(await tug(env, ['pull', '--platform', 'linux/arm64', arm]), 'tug pull --platform');
  const armInfo = JSON.parse(ok(await docker(env, ['image', 'inspect', arm]), 'inspect').stdout)[0];
  assert.equal(armInfo.Architecture, 'arm64');
  assert.notEqual(armInfo.Id, amd.Id);
  const none = await tug(env, ['pull', '--platform', 'linux/riscv64', arm]);
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /no matching manifest for linux\/riscv64/);
  // The amd64 image runs.
  assert.equal(ok(await docker(env, ['run', '--rm', multi, 'uname', '-m']), 'run').stdout.trim(), 'x86_64');
});

test('an image saved by a real Docker, pushed with skopeo from docker-archive:, pulls into tug with the same ID', async (t) => {
  const reg = await startTestRegistry();
  t.after(() => reg.stop());
  const work = await mkdtemp(join(tmpdir(), 'tug-rc-fixture-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const env = { ...d.env, DOCKER_CONFIG: join(work, 'dockercfg') };
  const ref = `${reg.hostPort}/tiny/fixture${rand()}:1.0`;
  await skopeo(['copy', '-q', '--dest-tls-verify=false', `docker-archive:${fixture}:tiny/fixture:1.0`, `docker://${ref}`]);
  ok(await docker(env, ['pull', ref]), 'docker pull');
  const info = JSON.parse(ok(await docker(env, ['image', 'inspect', ref]), 'inspect').stdout)[0];
  // Docker's own ID for this image (test/image/fixtures/README.md): the config travelled byte for byte.
  assert.equal(info.Id, 'sha256:99cf68dcd26ac977e4b4622b0e1176b81b4b15365440fd584fa548f2608dc7fc');
  assert.ok(info.Config.Env.includes('FOO=bar'));
  // The image has no shell; a container made from it shows its files.
  const name = `fx${rand()}`;
  ok(await docker(env, ['create', '--name', name, ref]), 'docker create');
  t.after(() => docker(env, ['rm', '-f', name]));
  const out = ok(await docker(env, ['cp', `${name}:/etc/hello.txt`, '-']), 'docker cp');
  assert.match(out.stdout, /hello from a docker-saved fixture/);
});

test('tug pull on a terminal draws per-layer lines redrawn in place with progress bars', async (t) => {
  const reg = await startTestRegistry();
  t.after(() => reg.stop());
  const work = await mkdtemp(join(tmpdir(), 'tug-rc-tty-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  await buildOciLayout(join(work, 'img'), 'v1', { layers: 2, bytesPerLayer: 3 * 1024 * 1024 });
  const ref = `${reg.hostPort}/tty/img${rand()}:v1`;
  await skopeo(['copy', '-q', '--dest-tls-verify=false', `oci:${join(work, 'img')}:v1`, `docker://${ref}`]);
  // script(1) gives the command a pseudo-terminal, as a user's shell would.
  const r = ok(await run('script', ['-qec', `${process.execPath} ${tugBin} pull ${ref}`, '/dev/null'], { ...d.env, DOCKER_CONFIG: join(work, 'cfg') }), 'tug pull on a tty');
  assert.match(r.stdout, /Downloading \[=*>? *\] [\d.]+[kM]?B\/[\d.]+MB/);
  assert.match(r.stdout, /\x1b\[\d+A\x1b\[2K/); // cursor up + clear line: a layer's line redrawn
  assert.match(r.stdout, /Pull complete/);
  // Without a terminal: plain lines, no byte counts.
  const plain = ok(await tug({ ...d.env, DOCKER_CONFIG: join(work, 'cfg') }, ['pull', ref]), 'tug pull (pipe)');
  assert.doesNotMatch(plain.stdout, /\x1b\[/);
});
