// Logins and authenticated push/pull: docker login / tug login against an
// htpasswd (Basic) tug registry and a token-flow one; wrong passwords and
// anonymous pulls fail with Docker's "unauthorized".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { runTool } from '../../src/util/exec-file.js';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { startTestRegistry } from '../registry/helpers.js';
import { docker, ok, rand, tug } from './helpers.js';

let dir: string;
let htpasswd: string;
let daemon: TestDaemon;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tug-rc-auth-'));
  htpasswd = join(dir, 'htpasswd');
  await writeFile(htpasswd, `alice:${bcrypt.hashSync('s3cret', 6)}\n`);
  // The token issuer's signing key (ES256) and its certificate.
  await runTool('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'token.key', '-out', 'token.crt', '-days', '1', '-subj', '/CN=tug token'], { cwd: dir });
  // A TLS server certificate for 127.0.0.1 (self-signed: loopback registries are not verified).
  await runTool('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'tls.key', '-out', 'tls.crt', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir });
  daemon = await startTestDaemon();
});
after(async () => {
  await daemon?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('docker login against an htpasswd registry; push and pull with the stored credentials; bad or no credentials are unauthorized', async (t) => {
  const reg = await startTestRegistry({ htpasswdFile: htpasswd });
  t.after(() => reg.stop());
  const cfg = join(dir, `cfg-${rand()}`);
  const env = { ...daemon.env, DOCKER_CONFIG: cfg };
  const bad = await docker(env, ['login', '-u', 'alice', '--password-stdin', reg.hostPort], 'wrong\n');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /unauthorized/i);

  const good = ok(await docker(env, ['login', '-u', 'alice', '--password-stdin', reg.hostPort], 's3cret\n'), 'docker login');
  assert.match(good.stdout, /Login Succeeded/);
  const stored = JSON.parse(await readFile(join(cfg, 'config.json'), 'utf8'));
  assert.equal(Buffer.from(stored.auths[reg.hostPort].auth, 'base64').toString(), 'alice:s3cret');

  const ref = `${reg.hostPort}/private/app${rand()}:1`;
  ok(await docker(env, ['tag', 'busybox', ref]), 'docker tag');
  ok(await docker(env, ['push', ref]), 'docker push with auth');
  ok(await docker(env, ['rmi', ref]), 'docker rmi');
  ok(await docker(env, ['pull', ref]), 'docker pull with auth');
  assert.equal(ok(await docker(env, ['run', '--rm', ref, 'echo', 'authed']), 'docker run').stdout.trim(), 'authed');

  const anonEnv = { ...daemon.env, DOCKER_CONFIG: join(dir, `anon-${rand()}`) };
  ok(await docker(env, ['rmi', ref]), 'docker rmi');
  const anon = await docker(anonEnv, ['pull', ref]);
  assert.notEqual(anon.code, 0);
  assert.match(anon.stderr, /unauthorized: authentication required/);
  const anonPush = await tug(anonEnv, ['push', `${reg.hostPort}/private/other:1`]);
  assert.notEqual(anonPush.code, 0);
});

test('tug login/push/pull/logout against a token-flow registry', async (t) => {
  const reg = await startTestRegistry({
    htpasswdFile: htpasswd,
    token: { service: 'tug-rc', issuer: 'tug-rc-issuer', certFile: join(dir, 'token.crt'), keyFile: join(dir, 'token.key'), issueForHtpasswd: true },
  });
  t.after(() => reg.stop());
  const cfg = join(dir, `cfg-${rand()}`);
  const env = { ...daemon.env, DOCKER_CONFIG: cfg };
  const bad = await tug(env, ['login', '-u', 'alice', '--password-stdin', reg.hostPort], 'nope\n');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /unauthorized/);
  ok(await tug(env, ['login', '-u', 'alice', '--password-stdin', reg.hostPort], 's3cret\n'), 'tug login');

  const ref = `${reg.hostPort}/tok/app${rand()}:7`;
  ok(await tug(env, ['tag', 'busybox', ref]), 'tug tag');
  const pushed = ok(await tug(env, ['push', ref]), 'tug push');
  assert.match(pushed.stdout, /7: digest: sha256:[a-f0-9]{64} size: \d+/);
  ok(await tug(env, ['rmi', ref]), 'tug rmi');
  ok(await tug(env, ['pull', ref]), 'tug pull');
  assert.equal(ok(await tug(env, ['run', '--rm', ref, 'echo', 'token-ok']), 'tug run').stdout.trim(), 'token-ok');

  assert.match(ok(await tug(env, ['logout', reg.hostPort]), 'tug logout').stdout, new RegExp(`Removing login credentials for ${reg.hostPort}`));
  ok(await tug(env, ['rmi', ref]), 'tug rmi');
  const anon = await tug(env, ['pull', ref]);
  assert.notEqual(anon.code, 0);
  assert.match(anon.stderr, /unauthorized/);
});

test('a TLS registry on loopback: https is tried first, Basic auth over it, push and pull', async (t) => {
  const reg = await startTestRegistry({ htpasswdFile: htpasswd, tlsCertFile: join(dir, 'tls.crt'), tlsKeyFile: join(dir, 'tls.key') });
  t.after(() => reg.stop());
  assert.match(reg.url, /^https:/);
  const env = { ...daemon.env, DOCKER_CONFIG: join(dir, `cfg-${rand()}`) };
  ok(await tug(env, ['login', '-u', 'alice', '-p', 's3cret', reg.hostPort]), 'tug login over TLS');
  const ref = `${reg.hostPort}/tls/app${rand()}:1`;
  ok(await tug(env, ['tag', 'busybox', ref]), 'tug tag');
  ok(await tug(env, ['push', ref]), 'tug push over TLS');
  ok(await tug(env, ['rmi', ref]), 'tug rmi');
  const pulled = ok(await tug(env, ['pull', ref]), 'tug pull over TLS');
  assert.match(pulled.stdout, /Status: Downloaded newer image/);
});
