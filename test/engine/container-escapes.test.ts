// The ways out of a container that host-side cp and tar used to open, tried as
// an attacker would: a hostile image (symlinks where volumes, copies and ADDs
// land) and a container racing the daemon (swapping a directory for a symlink
// to a host directory while docker cp runs). Each test plants a secret in a
// host directory it made and proves the secret is never read and nothing is
// ever written there. Docker's chrootarchive stays contained in every case;
// so must tug.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import tar from 'tar-stream';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand, type CommandResult } from '../helpers/run-command.js';

let d: TestDaemon;
let hostDir: string;
let secret: string;
let work: string;

const docker = (args: string[], input?: string): Promise<CommandResult> => runCommand('docker', args, { env: d.env, input, guardMs: 180_000 });
const name = (p: string): string => `${p}-${randomBytes(3).toString('hex')}`;

/** One raw Engine API call over the daemon's socket (the race loops make hundreds). */
function api(method: string, path: string, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method, path, headers: body ? { 'Content-Type': 'application/x-tar', 'Content-Length': body.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A tar of the given files (name -> content); names may hold '/' and '..'. */
async function tarOf(files: Array<[string, string]>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [n, content] of files) pack.entry({ name: n, mode: 0o644 }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** The host directory holds exactly the planted secret, unchanged. */
async function assertHostUntouched(): Promise<void> {
  assert.deepEqual(await readdir(hostDir), ['secret'], 'nothing was written into the host directory');
  assert.equal(await readFile(join(hostDir, 'secret'), 'utf8'), secret);
}

before(async () => {
  d = await startTestDaemon();
  hostDir = await mkdtemp(join(tmpdir(), 'tug-host-secret-'));
  secret = `HOST-SECRET-${randomBytes(8).toString('hex')}`;
  await writeFile(join(hostDir, 'secret'), secret);
  work = await mkdtemp(join(tmpdir(), 'tug-escape-work-'));
});
after(async () => {
  await d.stop();
  await rm(hostDir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

test('a volume filled from an image whose volume path is a symlink to a host directory copies nothing of the host', async () => {
  const ctx = join(work, 'vol-ctx');
  await mkdir(ctx, { recursive: true });
  const depth = '../'.repeat(12);
  await writeFile(
    join(ctx, 'Dockerfile'),
    [
      'FROM busybox',
      `RUN ln -s ${hostDir} /data && ln -s ${depth}${hostDir.slice(1)} /data2 && mkdir /real && echo image-content > /real/file`,
      'VOLUME ["/data", "/data2", "/real"]',
      '',
    ].join('\n'),
  );
  const img = name('escape-volume');
  const b = await docker(['build', '-q', '-t', img, ctx]);
  assert.equal(b.code, 0, b.stderr);
  for (const path of ['/data/secret', '/data2/secret']) {
    const r = await docker(['run', '--rm', img, 'sh', '-c', `cat ${path} 2>&1; ls -la $(dirname ${path})/ 2>&1`]);
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), `${path} showed the host secret: ${r.stdout}`);
  }
  // Named volumes are filled the same way.
  const r = await docker(['run', '--rm', '-v', `${name('escvol')}:/data`, img, 'sh', '-c', 'cat /data/secret 2>&1; true']);
  assert.ok(!r.stdout.includes(secret), r.stdout);
  // The real directory is still copied up, owners and content kept.
  const real = await docker(['run', '--rm', img, 'cat', '/real/file']);
  assert.equal(real.stdout.trim(), 'image-content', real.stderr);
  await assertHostUntouched();
});

test('docker cp into a directory through a planted symlink writes inside the container, never on the host', async () => {
  const c = name('esc-cp');
  assert.equal((await docker(['run', '-d', '--name', c, 'busybox', 'sleep', '600'])).code, 0);
  try {
    const ln = await docker(['exec', c, 'ln', '-s', hostDir, '/tmp/sub']);
    assert.equal(ln.code, 0, ln.stderr);
    // PUT through the API: a tar holding sub/evil extracted at /tmp.
    const put = await api('PUT', `/containers/${c}/archive?path=/tmp`, await tarOf([['sub/evil', 'evil']]));
    assert.ok(put.status === 200 || put.status === 400 || put.status === 404, `status ${put.status}: ${put.body.toString()}`);
    // The same through the docker CLI, from a tar on stdin.
    const local = join(work, 'cp-src');
    await mkdir(join(local, 'sub'), { recursive: true });
    await writeFile(join(local, 'sub', 'evil2'), 'evil');
    const tarred = await runCommand('sh', ['-c', `tar -C ${local} -cf - sub | DOCKER_HOST=${d.host} docker cp - ${c}:/tmp`]);
    assert.ok(!tarred.stderr.includes(secret), tarred.stderr);
    await assertHostUntouched();
    // Reading through the link finds the container's view, not the host's.
    const get = await docker(['cp', `${c}:/tmp/sub/secret`, '-']);
    assert.ok(!get.stdout.includes(secret), 'docker cp out of the container read a host file');
    const viaApi = await api('GET', `/containers/${c}/archive?path=${encodeURIComponent('/tmp/sub/secret')}`);
    assert.ok(!viaApi.body.includes(secret), 'GET archive read a host file');
    const head = await api('HEAD', `/containers/${c}/archive?path=${encodeURIComponent('/tmp/sub/secret')}`);
    assert.equal(head.status, 404, 'stat through the link does not see the host file');
    // The link itself is archived as a link.
    const link = await api('GET', `/containers/${c}/archive?path=/tmp/sub`);
    assert.equal(link.status, 200);
    assert.ok(!link.body.includes(secret));
  } finally {
    await docker(['rm', '-f', c]);
  }
});

test('a container racing docker cp (directory swapped for a symlink to a host directory) never reaches the host', async () => {
  const c = name('esc-race');
  const swap = [
    'mkdir -p /tmp/inside && echo inside > /tmp/inside/secret',
    `while :; do rm -rf /tmp/race; mkdir /tmp/race; rm -rf /tmp/race; ln -s ${hostDir} /tmp/race; done &`,
    `while :; do rm -rf /tmp/rd; cp -r /tmp/inside /tmp/rd; rm -rf /tmp/rd; ln -s ${hostDir} /tmp/rd; done &`,
    'wait',
  ].join('\n');
  assert.equal((await docker(['run', '-d', '--name', c, 'busybox', 'sh', '-c', swap])).code, 0);
  try {
    const statuses = new Map<number, number>();
    const until = Date.now() + 20_000;
    for (let i = 0; i < 300 && Date.now() < until; i++) {
      const put = await api('PUT', `/containers/${c}/archive?path=/tmp/race`, await tarOf([[`evil-${i}`, 'evil']]));
      statuses.set(put.status, (statuses.get(put.status) ?? 0) + 1);
      const get = await api('GET', `/containers/${c}/archive?path=${encodeURIComponent('/tmp/rd/secret')}`);
      assert.ok(!get.body.includes(secret), `attempt ${i}: GET archive read the host file`);
    }
    assert.ok([...statuses.keys()].every((s) => [200, 400, 404].includes(s)), `unexpected statuses ${JSON.stringify([...statuses])}`);
    await assertHostUntouched();
  } finally {
    await docker(['rm', '-f', c]);
  }
});

test('build: ADD of a tar and COPY through a symlink an earlier RUN planted stay in the image', async () => {
  const ctx = join(work, 'build-ctx');
  await mkdir(join(ctx, 'ctx', 'sub'), { recursive: true });
  await writeFile(join(ctx, 'add.tar'), await tarOf([['sub/x', 'from-add']]));
  await writeFile(join(ctx, 'ctx', 'sub', 'y'), 'from-copy');
  await writeFile(
    join(ctx, 'Dockerfile'),
    // ADD follows the link inside the image (its tar has no entry for sub itself); COPY's
    // directory entry for sub replaces the link with a directory, as Docker's unpacker does.
    ['FROM busybox', `RUN ln -s ${hostDir} /tmp/sub`, 'ADD add.tar /tmp/', 'COPY ctx/ /tmp/', `RUN cat ${hostDir}/x /tmp/sub/y > /result`, ''].join('\n'),
  );
  const img = name('escape-build');
  const b = await docker(['build', '-q', '-t', img, ctx]);
  assert.equal(b.code, 0, b.stderr);
  await assertHostUntouched();
  // What the ADD and COPY wrote is inside the image, where the link leads inside it.
  const r = await docker(['run', '--rm', img, 'cat', '/result']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'from-addfrom-copy');
});

test('export and commit of a container full of links to host paths carry none of the host', async () => {
  const c = name('esc-export');
  assert.equal((await docker(['run', '-d', '--name', c, 'busybox', 'sh', '-c', `ln -s ${hostDir} /hl; ln -s / /rootlink; ln -s ${hostDir}/secret /sl; sleep 600`])).code, 0);
  try {
    await docker(['exec', c, 'true']);
    const exp = await api('GET', `/containers/${c}/export`);
    assert.equal(exp.status, 200);
    assert.ok(!exp.body.includes(secret), 'docker export read a host file');
    const img = name('escape-commit');
    const cm = await docker(['commit', c, img]);
    assert.equal(cm.code, 0, cm.stderr);
    const save = await runCommand('sh', ['-c', `DOCKER_HOST=${d.host} docker save ${img} | grep -c ${secret} || true`]);
    assert.equal(save.stdout.trim(), '0', 'the committed image carries a host file');
    // commit froze the container only while it read it.
    const st = await docker(['inspect', '-f', '{{.State.Status}}', c]);
    assert.equal(st.stdout.trim(), 'running');
    assert.equal((await docker(['exec', c, 'true'])).code, 0);
  } finally {
    await docker(['rm', '-f', c]);
  }
  await assertHostUntouched();
});

test('a rejected archive leaves nothing half-extracted', async () => {
  const c = name('esc-reject');
  assert.equal((await docker(['run', '-d', '--name', c, 'busybox', 'sleep', '600'])).code, 0);
  try {
    // Made by exec, not by the container's command: `run -d` returns before that command has run (a 404 otherwise).
    assert.equal((await docker(['exec', c, 'mkdir', '-p', '/dest/a'])).code, 0);
    const climbing = await api('PUT', `/containers/${c}/archive?path=/dest/a`, await tarOf([['good.txt', 'good'], ['newdir/file', 'x'], ['../../../escape', 'bad']]));
    assert.equal(climbing.status, 400, climbing.body.toString());
    assert.match(climbing.body.toString(), /outside the destination/);
    const garbage = await api('PUT', `/containers/${c}/archive?path=/dest/a`, Buffer.concat([(await tarOf([['good2.txt', 'good']])).subarray(0, 700), Buffer.alloc(100, 7)]));
    assert.equal(garbage.status, 400, garbage.body.toString());
    const ls = await docker(['exec', c, 'sh', '-c', 'find /dest / -maxdepth 1 -name escape; find /dest']);
    assert.equal(ls.stdout.trim(), '/dest\n/dest/a', 'nothing of either archive was written');
  } finally {
    await docker(['rm', '-f', c]);
  }
});
