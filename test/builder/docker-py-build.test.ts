// docker-py's build and load calls against a real tug daemon, one case for each
// behaviour docker-py's own integration suite checks: a Dockerfile from outside
// the context, stderr in the stream, cache_from, extra_hosts, .dockerignore on
// the client and on the daemon, load of a non-tar, and an empty Dockerfile.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildEnv, rand, type BuildEnv } from './helpers.js';

const pyDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/builder/py');
let e: BuildEnv;
let r: any;

before(async () => {
  e = await buildEnv();
  const { stdout } = await promisify(execFile)('python3', [join(pyDir, 'build_api.py'), rand()], { env: e.d.env, timeout: 480_000, maxBuffer: 16 << 20 });
  r = JSON.parse(stdout);
});
after(async () => {
  await e?.close();
});

test('a Dockerfile outside the context builds, and neither it nor .dockerignore lands in the image', () => {
  assert.match(r.ooc_last.stream, /^Successfully tagged ooc-[0-9a-z]+:latest\n$/);
  assert.deepEqual(r.ooc_ls, ['.', '..', 'file.txt']);
});

test('stderr of a RUN step is in the build stream as Docker paints it; a failed RUN gives its exit code', () => {
  const streams = r.stderr.map((c: { stream?: string }) => c.stream);
  assert.ok(streams.includes('\x1b[91mAncient Temple\n\x1b[0m'), JSON.stringify(streams));
  assert.ok(streams.includes('out\n'));
  assert.ok(streams.includes('\x1b[91merr\n\x1b[0m'), 'the failing step\'s stderr comes before the error');
  const last = r.stderr[r.stderr.length - 1];
  assert.equal(last.errorDetail.code, 3);
  assert.match(last.error, /returned a non-zero code: 3/);
});

test('cache_from: the named image serves every step; an unknown one turns the local cache off', () => {
  assert.deepEqual(r.cache_from_hits, [3, 0]);
});

test('extra_hosts are in /etc/hosts of the RUN steps', () => {
  assert.deepEqual(r.hosts_errors, []);
  assert.match(r.hosts, /^127\.0\.0\.1\thello\.world\.test$/m);
  assert.match(r.hosts, /^127\.0\.0\.2\textrahost\.local\.test$/m);
});

test('.dockerignore: exceptions inside ignored dirs, spaces trimmed, Dockerfile and .dockerignore left out', () => {
  assert.deepEqual(r.ignore_client, ['/test/#file.txt', '/test/ignored/subdir/excepted-file', '/test/ignored/subdir/excepted-with-spaces', '/test/not-ignored']);
  assert.deepEqual(r.ignore_server_errors, []);
  // Daemon-side (tug build's path): no ignored dir left empty (tmp, a/tmp), only the parents of what was re-included.
  assert.deepEqual(r.ignore_server, ['/test', '/test/a', '/test/b', '/test/ignored', '/test/ignored/sub', '/test/ignored/sub/kept file', '/test/keep me']);
});

test('images.load of a non-tar raises ImageLoadError with dockerd\'s text', () => {
  assert.equal(r.load_error, 'Error processing tar file(exit status 1): unexpected EOF');
});

test('an empty Dockerfile is an HTTP 400 before any stream, as dockerd answers (docker-py regression 443)', () => {
  assert.deepEqual(r.empty_dockerfile, [400, 'the Dockerfile (Dockerfile) cannot be empty']);
});
