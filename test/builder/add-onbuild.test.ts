// ADD from an http URL (a server on loopback that this test starts), ONBUILD
// triggers running in the child build, and the tty progress view.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { buildEnv, cachedSteps, rand, type BuildEnv } from './helpers.js';

let e: BuildEnv;
let server: Server;
let port = 0;
let hits = 0;
let body = 'downloaded v1\n';
before(async () => {
  e = await buildEnv();
  server = createServer((req, res) => {
    hits++;
    if (req.url === '/files/tool.txt') res.writeHead(200, { 'Content-Type': 'text/plain' }).end(body);
    else res.writeHead(404).end('nope');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  await new Promise((r) => server?.close(r));
  await e?.close();
});

test('ADD https?:// downloads (mode 0600), re-checks the content each build, and names a bad URL', async () => {
  const url = `http://127.0.0.1:${port}/files/tool.txt`;
  const ctx = await e.context({ Dockerfile: `FROM busybox\nADD ${url} /opt/\nADD ${url} /opt/renamed.txt\nRUN cat /opt/tool.txt /opt/renamed.txt\n` });
  const tag = `addurl-${rand()}:1`;
  const r = await e.tug(['build', '--progress=plain', '-t', tag, ctx]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const files = await e.tug(['run', '--rm', tag, 'sh', '-c', 'stat -c "%a %n" /opt/tool.txt /opt/renamed.txt; cat /opt/tool.txt']);
  assert.equal(files.stdout, '600 /opt/tool.txt\n600 /opt/renamed.txt\ndownloaded v1\n', files.stderr);
  const before = hits;
  assert.equal(cachedSteps((await e.tug(['build', '--progress=plain', ctx])).stdout), 3);
  assert.ok(hits > before, 'the URL is fetched again to compare its content');
  body = 'downloaded v2\n';
  const changed = await e.tug(['build', '--progress=plain', ctx]);
  assert.equal(cachedSteps(changed.stdout), 0);
  assert.match(changed.stdout, /^downloaded v2$/m);
  const bad = await e.tug(['build', await e.context({ Dockerfile: `FROM busybox\nADD http://127.0.0.1:${port}/missing /x\n` })]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Dockerfile:2: .*download failed: HTTP 404/);
  const want = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  const good = await e.tug(['build', '-q', await e.context({ Dockerfile: `FROM busybox\nADD --checksum=${want} ${url} /t.txt\n` })]);
  assert.equal(good.code, 0, good.stderr);
  const wrong = await e.tug(['build', await e.context({ Dockerfile: `FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} ${url} /t.txt\n` })]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /Dockerfile:2: .*checksum mismatch/);
  const refused = await e.tug(['build', await e.context({ Dockerfile: 'FROM busybox\nCOPY --exclude=*.md . /x\n' })]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Dockerfile:2: .*COPY does not take the flag --exclude/);
  await e.tug(['rmi', tag]);
  await e.assertClean();
});

test('ONBUILD triggers run in the child build; tty progress shows compact step lines', async () => {
  const parent = `onbuild-base-${rand()}:1`;
  const p = await e.tug(['build', '-q', '-t', parent, await e.context({ Dockerfile: 'FROM busybox\nWORKDIR /app\nONBUILD COPY payload.txt /app/\nONBUILD RUN wc -c < /app/payload.txt > /app/size\n' })]);
  assert.equal(p.code, 0, p.stderr);
  const child = `onbuild-child-${rand()}:1`;
  const c = await e.tug(['build', '--progress=tty', '-t', child, await e.context({ Dockerfile: `FROM ${parent}\nCMD ["cat", "/app/size"]\n`, 'payload.txt': '12345\n' })]);
  assert.equal(c.code, 0, c.stderr + c.stdout);
  assert.match(c.stdout, /\r\x1b\[2KStep 2\/2 : CMD \["cat", "\/app\/size"\]/);
  assert.match(c.stdout, /Successfully tagged onbuild-child-/);
  const run = await e.tug(['run', '--rm', child]);
  assert.equal(run.stdout, '6\n', run.stderr);
  const cfg = JSON.parse((await e.tug(['image', 'inspect', child])).stdout)[0].Config;
  assert.ok(!cfg.OnBuild?.length, 'triggers do not pass on to grandchildren');
  await e.tug(['rmi', child, parent]);
  await e.assertClean();
});
