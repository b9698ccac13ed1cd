// The docker CLI through tug daemons: push a local image to tug's registry and
// to Debian's docker-registry (Distribution), pull it into a fresh daemon and
// run it; `docker run` of a missing image pulls it first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestDaemon } from '../helpers/tug-daemon.js';
import { startTestRegistry } from '../registry/helpers.js';
import { docker, ok, rand, startDistribution } from './helpers.js';

test('docker push to tug registry and Distribution, pull into a fresh daemon and run', async (t) => {
  const reg = await startTestRegistry();
  t.after(() => reg.stop());
  const dist = await startDistribution();
  t.after(() => dist.stop());
  const a = await startTestDaemon(['--insecure-registry', reg.hostPort]);
  t.after(() => a.stop());
  const b = await startTestDaemon();
  t.after(() => b.stop());
  const cfg = await mkdtemp(join(tmpdir(), 'tug-dockercfg-'));
  t.after(() => rm(cfg, { recursive: true, force: true }));
  const envA = { ...a.env, DOCKER_CONFIG: cfg };
  const envB = { ...b.env, DOCKER_CONFIG: cfg };

  const name = `app${rand()}`;
  const onTug = `${reg.hostPort}/${name}:1`;
  const onDist = `${dist.hostPort}/team/${name}:2`;
  ok(await docker(envA, ['tag', 'busybox', onTug]), 'docker tag');
  ok(await docker(envA, ['tag', 'busybox', onDist]), 'docker tag');
  const pushed = ok(await docker(envA, ['push', onTug]), 'docker push (tug registry)');
  assert.match(pushed.stdout, new RegExp(`The push refers to repository \\[${reg.hostPort}/${name}\\]`));
  assert.match(pushed.stdout, /: Pushed/);
  const digest = /1: digest: (sha256:[a-f0-9]{64}) size: \d+/.exec(pushed.stdout)?.[1];
  assert.ok(digest, pushed.stdout);
  // A second push finds every blob there already (HEAD) and sends none.
  const afterPush = JSON.parse(ok(await docker(envA, ['image', 'inspect', onTug]), 'inspect').stdout)[0];
  assert.ok(afterPush.RepoDigests.includes(`${reg.hostPort}/${name}@${digest}`), JSON.stringify(afterPush.RepoDigests));
  const again = ok(await docker(envA, ['push', onTug]), 'docker push again');
  assert.match(again.stdout, /Layer already exists/);
  assert.doesNotMatch(again.stdout, /: Pushed/);
  // Another repository of the same registry: the layer is mounted across, not sent again.
  const sibling = `${reg.hostPort}/${name}-copy:1`;
  ok(await docker(envA, ['tag', 'busybox', sibling]), 'docker tag');
  assert.match(ok(await docker(envA, ['push', sibling]), 'docker push (mount)').stdout, new RegExp(`Mounted from ${name}`));
  ok(await docker(envA, ['push', onDist]), 'docker push (Distribution)');

  // docker run of an image B does not have: the CLI pulls through /images/create and runs it.
  const ran = ok(await docker(envB, ['run', '--rm', onTug, 'sh', '-c', 'echo ran-from-$(hostname | wc -c)']), 'docker run');
  assert.match(ran.stdout, /ran-from-\d+/);
  assert.match(ran.stderr, /Unable to find image/);
  assert.match(ran.stderr, /Pull complete/);
  const inspect = JSON.parse(ok(await docker(envB, ['image', 'inspect', onTug]), 'inspect').stdout)[0];
  assert.deepEqual(inspect.RepoDigests, [`${reg.hostPort}/${name}@${digest}`]);

  const fromDist = ok(await docker(envB, ['pull', onDist]), 'docker pull (Distribution)');
  assert.match(fromDist.stdout, /(Downloaded newer image|Image is up to date) for/);
  const ran2 = ok(await docker(envB, ['run', '--rm', onDist, 'cat', '/etc/passwd']), 'docker run (Distribution image)');
  assert.match(ran2.stdout, /^root:/m);

  // By digest: the same image, known by that digest, without a tag.
  const byDigest = ok(await docker(envB, ['pull', `${reg.hostPort}/${name}@${digest}`]), 'docker pull by digest');
  assert.match(byDigest.stdout, new RegExp(`Digest: ${digest}`));
  const viaDigest = JSON.parse(ok(await docker(envB, ['image', 'inspect', `${reg.hostPort}/${name}@${digest}`]), 'inspect by digest').stdout)[0];
  assert.equal(viaDigest.Id, inspect.Id);

  const missing = await docker(envB, ['pull', `${reg.hostPort}/${name}:nope`]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /manifest for .*:nope not found: manifest unknown/);
});
