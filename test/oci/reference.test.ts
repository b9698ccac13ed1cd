import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarName, fullName, parseNamed, parseReference } from '../../src/oci/reference.js';
import { digestOf, validateDigest, compressionOf } from '../../src/oci/digest.js';

const D = 'sha256:' + 'a'.repeat(64);

test('parseReference normalizes like the docker CLI', () => {
  assert.deepEqual(parseReference('busybox'), { domain: 'docker.io', path: 'library/busybox', tag: 'latest' });
  assert.deepEqual(parseReference('foo/bar:1.0'), { domain: 'docker.io', path: 'foo/bar', tag: '1.0' });
  assert.deepEqual(parseReference('localhost:5000/app:1'), { domain: 'localhost:5000', path: 'app', tag: '1' });
  assert.deepEqual(parseReference('localhost/app'), { domain: 'localhost', path: 'app', tag: 'latest' });
  assert.deepEqual(parseReference('ghcr.io/a/b/c'), { domain: 'ghcr.io', path: 'a/b/c', tag: 'latest' });
  assert.deepEqual(parseReference('index.docker.io/library/alpine:3'), { domain: 'docker.io', path: 'library/alpine', tag: '3' });
  assert.deepEqual(parseReference(`foo/bar@${D}`), { domain: 'docker.io', path: 'foo/bar', digest: D });
  assert.deepEqual(parseReference(`busybox:1@${D}`), { domain: 'docker.io', path: 'library/busybox', tag: '1', digest: D });
  assert.deepEqual(parseReference('[::1]:5000/x:y'), { domain: '[::1]:5000', path: 'x', tag: 'y' });
  assert.deepEqual(parseNamed('busybox'), { domain: 'docker.io', path: 'library/busybox' });
});

test('parseReference rejects malformed references with invalid errors', () => {
  const bad = ['', 'UPPER', 'foo/Bar', 'foo::bar', 'foo:', ':tag', 'a'.repeat(64), 'foo@sha256:123', 'foo bar', '-foo', 'foo/', 'x:' + 't'.repeat(129)];
  for (const s of bad) {
    assert.throws(() => parseReference(s), (err: Error & { kind?: string }) => err.kind === 'invalid' && /invalid reference format/.test(err.message), s);
  }
  assert.throws(() => parseReference('Busybox'), /must be lowercase/);
});

test('familiarName and fullName render references the way docker prints them', () => {
  assert.equal(familiarName(parseReference('busybox')), 'busybox:latest');
  assert.equal(familiarName(parseReference('docker.io/library/busybox:1')), 'busybox:1');
  assert.equal(familiarName(parseReference('docker.io/foo/bar:2')), 'foo/bar:2');
  assert.equal(familiarName(parseReference('docker.io/library/a/b:2')), 'library/a/b:2');
  assert.equal(familiarName(parseReference('localhost:5000/app:1')), 'localhost:5000/app:1');
  assert.equal(familiarName(parseReference(`foo/bar@${D}`)), `foo/bar@${D}`);
  assert.equal(fullName(parseReference('busybox')), 'docker.io/library/busybox:latest');
});

test('digest helpers hash, validate and sniff compression', () => {
  assert.equal(digestOf(''), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(validateDigest(D), D);
  assert.throws(() => validateDigest('sha256:xyz'), (err: Error & { kind?: string }) => err.kind === 'invalid');
  assert.throws(() => validateDigest('md5:' + 'a'.repeat(32)), /sha256/);
  assert.equal(compressionOf(Buffer.from([0x1f, 0x8b, 8, 0])), 'gzip');
  assert.equal(compressionOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(compressionOf(Buffer.from('etc/')), 'none');
});
