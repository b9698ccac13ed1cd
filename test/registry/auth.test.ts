// htpasswd Basic auth, Docker token auth (with tug's own /token issuer) and
// TLS, with raw HTTP and with skopeo.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { runTool } from '../../src/util/exec-file.js';
import { startTestRegistry, tempDir, buildOciLayout, skopeo, http, errorCode, suffix } from './helpers.js';

let dir: string;
let htpasswd: string;
before(async () => {
  dir = await tempDir('auth');
  htpasswd = join(dir, 'htpasswd');
  // Apache's "$2y$" prefix, as `htpasswd -B` writes it.
  await writeFile(htpasswd, `# users\nalice:${bcrypt.hashSync('s3cret', 6).replace(/^\$2[ab]\$/, '$2y$')}\nbob:${bcrypt.hashSync('hunter2', 6)}\n`);
  const ssl = (args: string[]) => runTool('openssl', args, { cwd: dir });
  // A test CA and a server certificate for 127.0.0.1 signed by it.
  await ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=tug test CA']);
  await ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await ssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'san.ext']);
  // Token signing keys: EC P-256 (ES256) and RSA (RS256), each with a self-signed cert.
  await ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'token-ec.key', '-out', 'token-ec.crt', '-days', '1', '-subj', '/CN=tug token']);
  await ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'token-rsa.key', '-out', 'token-rsa.crt', '-days', '1', '-subj', '/CN=tug token']);
  // skopeo's --cert-dir: *.crt files are trusted CAs.
  await runTool('mkdir', ['-p', join(dir, 'certs.d')]);
  await runTool('cp', [join(dir, 'ca.crt'), join(dir, 'certs.d', 'ca.crt')]);
});
after(async () => rm(dir, { recursive: true, force: true }));

const basic = (user: string, pass: string) => ({ Authorization: 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64') });

test('htpasswd Basic auth: 401 with a Basic challenge, bad password refused, good ones accepted, skopeo --dest-creds', async () => {
  const reg = await startTestRegistry({ htpasswdFile: htpasswd });
  const work = await tempDir('basic');
  try {
    const none = await http('GET', `${reg.url}/v2/`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate')!, /^Basic realm="[^"]+"$/);
    assert.equal(errorCode(none), 'UNAUTHORIZED');
    assert.equal((await http('GET', `${reg.url}/v2/`, { headers: basic('alice', 'wrong') })).status, 401);
    assert.equal((await http('GET', `${reg.url}/v2/`, { headers: basic('nobody', 's3cret') })).status, 401);
    assert.equal((await http('GET', `${reg.url}/v2/`, { headers: basic('alice', 's3cret') })).status, 200);
    assert.equal((await http('GET', `${reg.url}/v2/`, { headers: basic('bob', 'hunter2') })).status, 200);

    await buildOciLayout(join(work, 'img'), 'v1');
    const ref = `docker://${reg.hostPort}/auth/basic${suffix()}:v1`;
    await assert.rejects(skopeo(['copy', '--dest-tls-verify=false', `oci:${join(work, 'img')}:v1`, ref]), /unauthorized|authentication required/i);
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'alice:s3cret', `oci:${join(work, 'img')}:v1`, ref]);
    const info = JSON.parse((await skopeo(['inspect', '--tls-verify=false', '--creds', 'bob:hunter2', ref])).stdout);
    assert.equal(info.Architecture, 'amd64');
  } finally {
    await reg.stop();
    await rm(work, { recursive: true, force: true });
  }
});

test('token auth (ES256): Bearer challenge, /token issues scoped tokens, scopes and signatures enforced', async () => {
  const reg = await startTestRegistry({
    htpasswdFile: htpasswd,
    token: { service: 'tug-test', issuer: 'tug-test-issuer', certFile: join(dir, 'token-ec.crt'), keyFile: join(dir, 'token-ec.key'), issueForHtpasswd: true },
  });
  try {
    const repo = `tok/r${suffix()}`;
    const none = await http('GET', `${reg.url}/v2/${repo}/tags/list`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), `Bearer realm="${reg.url}/token",service="tug-test",scope="repository:${repo}:pull"`);
    const post = await http('POST', `${reg.url}/v2/${repo}/blobs/uploads/`);
    assert.match(post.headers.get('www-authenticate')!, new RegExp(`scope="repository:${repo}:pull,push"`));

    assert.equal((await http('GET', `${reg.url}/token?service=tug-test&scope=repository:${repo}:pull`)).status, 401);
    assert.equal((await http('GET', `${reg.url}/token?service=tug-test`, { headers: basic('alice', 'bad') })).status, 401);
    const tokenFor = async (scope: string) => {
      const r = await http('GET', `${reg.url}/token?service=tug-test&scope=${encodeURIComponent(scope)}`, { headers: basic('alice', 's3cret') });
      assert.equal(r.status, 200);
      const body = r.json();
      assert.equal(body.token, body.access_token);
      assert.ok(body.expires_in > 0);
      return { Authorization: `Bearer ${body.token}` };
    };
    // OAuth2 password grant (POST form), as containerd asks first.
    const form = new URLSearchParams({ grant_type: 'password', username: 'bob', password: 'hunter2', service: 'tug-test', scope: `repository:${repo}:pull`, client_id: 'test' });
    const oauth = await http('POST', `${reg.url}/token`, { body: form.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(oauth.status, 200);
    const viaForm = { Authorization: `Bearer ${oauth.json().access_token}` };
    assert.equal((await http('GET', `${reg.url}/v2/${repo}/tags/list`, { headers: viaForm })).status, 404); // allowed; repo just does not exist
    form.set('password', 'nope');
    assert.equal((await http('POST', `${reg.url}/token`, { body: form.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } })).status, 401);
    const pull = await tokenFor(`repository:${repo}:pull`);
    const push = await tokenFor(`repository:${repo}:pull,push`);
    assert.equal((await http('GET', `${reg.url}/v2/`, { headers: pull })).status, 200);
    const denied = await http('POST', `${reg.url}/v2/${repo}/blobs/uploads/`, { headers: pull });
    assert.equal(denied.status, 401);
    assert.match(denied.headers.get('www-authenticate')!, /error="insufficient_scope"/);
    const ok = await http('POST', `${reg.url}/v2/${repo}/blobs/uploads/`, { headers: push });
    assert.equal(ok.status, 202);
    // A token for one repository is no good for another.
    const elsewhere = await http('POST', `${reg.url}/v2/${repo}x/blobs/uploads/`, { headers: push });
    assert.equal(elsewhere.status, 401);
    // Tampered payload: the signature no longer verifies.
    const [h, , s] = push.Authorization.slice(7).split('.');
    const forged = Buffer.from(JSON.stringify({ iss: 'tug-test-issuer', aud: 'tug-test', exp: 9e9, access: [{ type: 'repository', name: repo, actions: ['*'] }] })).toString('base64url');
    const bad = await http('GET', `${reg.url}/v2/${repo}/tags/list`, { headers: { Authorization: `Bearer ${h}.${forged}.${s}` } });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate')!, /error="invalid_token"/);
  } finally {
    await reg.stop();
  }
});

test('token auth (RS256) over TLS with skopeo: push, inspect, pull with the test CA', async () => {
  const reg = await startTestRegistry({
    htpasswdFile: htpasswd,
    tlsCertFile: join(dir, 'server.crt'),
    tlsKeyFile: join(dir, 'server.key'),
    token: { service: 'tug-tls', issuer: 'tug-tls-issuer', certFile: join(dir, 'token-rsa.crt'), keyFile: join(dir, 'token-rsa.key'), issueForHtpasswd: true },
  });
  const work = await tempDir('tls');
  try {
    assert.match(reg.url, /^https:\/\//);
    await buildOciLayout(join(work, 'img'), 'v1', { layers: 2 });
    const ref = `docker://${reg.hostPort}/tls/app${suffix()}:v1`;
    const certs = join(dir, 'certs.d');
    await assert.rejects(skopeo(['copy', '--dest-cert-dir', certs, '--dest-creds', 'alice:wrong', `oci:${join(work, 'img')}:v1`, ref]));
    await skopeo(['copy', '--dest-cert-dir', certs, '--dest-creds', 'alice:s3cret', `oci:${join(work, 'img')}:v1`, ref]);
    const info = JSON.parse((await skopeo(['inspect', '--cert-dir', certs, '--creds', 'bob:hunter2', ref])).stdout);
    assert.equal(info.Layers.length, 2);
    await skopeo(['copy', '--src-cert-dir', certs, '--src-creds', 'bob:hunter2', ref, `oci:${join(work, 'back')}:v1`]);
    const tags = JSON.parse((await skopeo(['list-tags', '--cert-dir', certs, '--creds', 'alice:s3cret', ref.replace(/:v1$/, '')])).stdout);
    assert.deepEqual(tags.Tags, ['v1']);
  } finally {
    await reg.stop();
    await rm(work, { recursive: true, force: true });
  }
});

test('token auth with an external realm: only verifies; expired, wrong-issuer and wrong-audience tokens refused', async () => {
  const { signToken, loadPrivateKey } = await import('../../src/registry/auth/jwt.js');
  const { readFile } = await import('node:fs/promises');
  const key = loadPrivateKey(await readFile(join(dir, 'token-ec.key'), 'utf8'));
  const reg = await startTestRegistry({
    token: { realm: 'https://auth.example.invalid/token', service: 'ext', issuer: 'ext-issuer', certFile: join(dir, 'token-ec.crt') },
  });
  try {
    const repo = `ext/r${suffix()}`;
    const none = await http('GET', `${reg.url}/v2/`);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="https://auth.example.invalid/token",service="ext"');
    // No issuer here: /token is not served.
    assert.equal((await http('GET', `${reg.url}/token`)).status, 404);
    const now = Math.floor(Date.now() / 1000);
    const mk = (over: Record<string, unknown>) => ({
      Authorization:
        'Bearer ' +
        signToken({ iss: 'ext-issuer', sub: 'carol', aud: 'ext', iat: now, nbf: now, exp: now + 300, access: [{ type: 'repository', name: repo, actions: ['pull', 'push'] }], ...over }, key),
    });
    assert.equal((await http('POST', `${reg.url}/v2/${repo}/blobs/uploads/`, { headers: mk({}) })).status, 202);
    for (const bad of [{ exp: now - 3600 }, { iss: 'someone-else' }, { aud: 'other-service' }, { nbf: now + 3600 }]) {
      const r = await http('POST', `${reg.url}/v2/${repo}/blobs/uploads/`, { headers: mk(bad) });
      assert.equal(r.status, 401, JSON.stringify(bad));
      assert.match(r.headers.get('www-authenticate')!, /error="invalid_token"/);
    }
  } finally {
    await reg.stop();
  }
});
