// The pure parts of the registry client: WWW-Authenticate parsing, insecure
// host rules, platform choice in an index, X-Registry-Auth decoding, progress bars.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenges } from '../../src/image/registry-client/challenge.js';
import { domainOfServerAddress, isInsecureRegistry, setInsecureRegistries, authKeyOf, apiHostOf } from '../../src/image/registry-client/hosts.js';
import { parsePlatform, selectPlatform } from '../../src/image/registry-client/manifests.js';
import { progressBar, eachLimited } from '../../src/image/registry-client/progress.js';
import { describeErrorBody } from '../../src/image/registry-client/registry-error.js';
import { registryAuthHeader } from '../../src/engine-api/routes-registry.js';
import type { OciIndex } from '../../src/oci/image-spec.js';

test('WWW-Authenticate: Bearer and Basic challenges, quoted values with commas and escapes', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="my \\"realm\\""'), [{ scheme: 'basic', params: { realm: 'my "realm"' } }]);
  assert.deepEqual(parseChallenges(['Basic realm=simple', 'Bearer realm="r", error="invalid_token"']), [
    { scheme: 'basic', params: { realm: 'simple' } },
    { scheme: 'bearer', params: { realm: 'r', error: 'invalid_token' } },
  ]);
  assert.deepEqual(parseChallenges(undefined), []);
});

test('insecure registries: loopback always, --insecure-registry hosts and CIDRs, nothing else', () => {
  setInsecureRegistries(['myreg.local:5000', '10.9.0.0/16']);
  try {
    assert.equal(isInsecureRegistry('127.0.0.1:5000'), true);
    assert.equal(isInsecureRegistry('localhost:5000'), true);
    assert.equal(isInsecureRegistry('myreg.local:5000'), true);
    assert.equal(isInsecureRegistry('myreg.local:5001'), false);
    assert.equal(isInsecureRegistry('10.9.200.1:443'), true);
    assert.equal(isInsecureRegistry('10.10.0.1:443'), false);
    assert.equal(isInsecureRegistry('registry-1.docker.io'), false);
    assert.throws(() => setInsecureRegistries(['10.0.0.0/99']), /bad CIDR/);
  } finally {
    setInsecureRegistries([]);
  }
  assert.equal(isInsecureRegistry('myreg.local:5000'), false);
  assert.equal(apiHostOf('docker.io'), 'registry-1.docker.io');
  assert.equal(authKeyOf('docker.io'), 'https://index.docker.io/v1/');
  assert.equal(domainOfServerAddress('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(domainOfServerAddress('http://127.0.0.1:5000/'), '127.0.0.1:5000');
});

test('platform choice: linux/amd64 by default, variants, and a clear error when missing', () => {
  const m = (architecture: string, variant?: string, digest = 'sha256:' + architecture.padEnd(64, '0').slice(0, 64)) => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest,
    size: 1,
    platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
  });
  const idx: OciIndex = {
    schemaVersion: 2,
    manifests: [m('arm', 'v6', 'sha256:' + '6'.repeat(64)), m('arm', 'v7', 'sha256:' + '7'.repeat(64)), m('arm64', 'v8', 'sha256:' + '8'.repeat(64)), m('amd64', undefined, 'sha256:' + 'a'.repeat(64))],
  };
  assert.equal(selectPlatform(idx, parsePlatform(undefined), 'x').digest, 'sha256:' + 'a'.repeat(64));
  assert.equal(selectPlatform(idx, parsePlatform('linux/arm64'), 'x').digest, 'sha256:' + '8'.repeat(64));
  assert.equal(selectPlatform(idx, parsePlatform('linux/arm/v7'), 'x').digest, 'sha256:' + '7'.repeat(64));
  assert.throws(() => selectPlatform(idx, parsePlatform('linux/s390x'), 'img:1'), /no matching manifest for linux\/s390x in the manifest list entries of img:1/);
  assert.throws(() => parsePlatform('linux'), /want os\/arch/);
  assert.deepEqual(parsePlatform('{"os":"linux","architecture":"arm","variant":"v7"}'), { os: 'linux', architecture: 'arm', variant: 'v7' });
});

test('X-Registry-Auth: base64url JSON, the combined auth field, anonymous forms, garbage refused', () => {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  assert.deepEqual(registryAuthHeader(enc({ username: 'a', password: 'p?>', serveraddress: 'r:5000' })), { username: 'a', password: 'p?>', serveraddress: 'r:5000' });
  assert.deepEqual(registryAuthHeader(enc({ auth: Buffer.from('bob:x:y').toString('base64') })), { username: 'bob', password: 'x:y' });
  assert.deepEqual(registryAuthHeader(enc({ identitytoken: 'tok' })), { identitytoken: 'tok' });
  assert.equal(registryAuthHeader(enc({})), undefined);
  assert.equal(registryAuthHeader(undefined), undefined);
  assert.throws(() => registryAuthHeader('!!!not-base64-json'), /X-Registry-Auth/);
});

test('registry error bodies read as Docker prints them; progress bars; bounded concurrency', async () => {
  assert.equal(describeErrorBody(404, Buffer.from('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')), 'manifest unknown: manifest unknown');
  assert.equal(describeErrorBody(401, Buffer.from('')), 'unauthorized: authentication required');
  assert.equal(progressBar(50, 100, 10), '[====>     ] 50B/100B');
  assert.equal(progressBar(2_500_000, 2_500_000, 4), '[====] 2.5MB/2.5MB');
  let running = 0;
  let peak = 0;
  await eachLimited([...Array(10).keys()], 3, async () => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setImmediate(r));
    running--;
  });
  assert.equal(peak, 3);
  await assert.rejects(eachLimited([1, 2, 3], 2, async (n) => {
    if (n === 2) throw new Error('boom');
  }), /boom/);
});
