// Pull resume: a proxy in front of the registry cuts the connection half way
// through a big layer. The daemon resumes with a Range request, within one pull
// and, once a pull has given up, from the partial file the next pull finds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestDaemon } from '../helpers/tug-daemon.js';
import { startTestRegistry, buildOciLayout, skopeo } from '../registry/helpers.js';
import { docker, ok, rand } from './helpers.js';

interface CuttingProxy {
  hostPort: string;
  /** Blob GETs seen for the watched digest: their Range header (or '') and whether they were cut. */
  seen: Array<{ range: string; cut: boolean }>;
  close(): Promise<void>;
}

/** Forwards everything to `upstream`; the next `cuts` GETs of blob `digest` stop half way through the body. */
async function startCuttingProxy(upstream: string, digest: string, cuts: number): Promise<CuttingProxy> {
  const [host, port] = upstream.split(':') as [string, string];
  const seen: CuttingProxy['seen'] = [];
  const server = createServer((req, res) => {
    const watched = req.method === 'GET' && (req.url ?? '').endsWith(`/blobs/${digest}`);
    const cut = watched && cuts > 0;
    if (cut) cuts--;
    if (watched) seen.push({ range: String(req.headers.range ?? ''), cut });
    const headers: IncomingHttpHeaders = { ...req.headers, host: upstream };
    const up = request({ host, port: Number(port), method: req.method, path: req.url, headers }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      if (!cut) {
        ures.pipe(res);
        return;
      }
      const half = Math.floor(Number(ures.headers['content-length'] ?? 0) / 2);
      let sent = 0;
      ures.on('data', (c: Buffer) => {
        if (sent >= half) return;
        const part = c.subarray(0, half - sent);
        sent += part.length;
        res.write(part);
        if (sent >= half) {
          ures.destroy();
          res.socket?.destroy();
        }
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const p = (server.address() as { port: number }).port;
  return {
    hostPort: `127.0.0.1:${p}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

async function layerDigestOf(layout: string): Promise<string> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(await readFile(join(layout, 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8'));
  return manifest.layers[0].digest;
}

test('a pull cut off mid-layer resumes with Range and verifies the digest', async (t) => {
  const reg = await startTestRegistry();
  t.after(() => reg.stop());
  const d = await startTestDaemon();
  t.after(() => d.stop());
  const work = await mkdtemp(join(tmpdir(), 'tug-rc-resume-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const env = { ...d.env, DOCKER_CONFIG: join(work, 'dockercfg') };

  // One cut: the same pull retries from where it stopped.
  await buildOciLayout(join(work, 'one'), 'v1', { bytesPerLayer: 6 * 1024 * 1024 });
  const digest1 = await layerDigestOf(join(work, 'one'));
  const repo1 = `resume/one${rand()}`;
  await skopeo(['copy', '-q', '--dest-tls-verify=false', `oci:${join(work, 'one')}:v1`, `docker://${reg.hostPort}/${repo1}:v1`]);
  const proxy1 = await startCuttingProxy(reg.hostPort, digest1, 1);
  t.after(() => proxy1.close());
  const ref1 = `${proxy1.hostPort}/${repo1}:v1`;
  ok(await docker(env, ['pull', ref1]), 'docker pull through a cutting proxy');
  assert.equal(proxy1.seen.length, 2, JSON.stringify(proxy1.seen));
  assert.deepEqual(proxy1.seen[0], { range: '', cut: true });
  const m = /^bytes=(\d+)-$/.exec(proxy1.seen[1]!.range);
  assert.ok(m && Number(m[1]) > 0, `second GET resumes with Range, got ${JSON.stringify(proxy1.seen[1])}`);
  const img = JSON.parse(ok(await docker(env, ['image', 'inspect', ref1]), 'inspect').stdout)[0];
  assert.equal(img.RootFS.Layers.length, 1);

  // Cut on every attempt of one pull: it fails, the partial file stays; the next pull resumes it.
  await buildOciLayout(join(work, 'two'), 'v2', { bytesPerLayer: 6 * 1024 * 1024 });
  const digest2 = await layerDigestOf(join(work, 'two'));
  const repo2 = `resume/two${rand()}`;
  await skopeo(['copy', '-q', '--dest-tls-verify=false', `oci:${join(work, 'two')}:v2`, `docker://${reg.hostPort}/${repo2}:v2`]);
  const proxy2 = await startCuttingProxy(reg.hostPort, digest2, 5);
  t.after(() => proxy2.close());
  const ref2 = `${proxy2.hostPort}/${repo2}:v2`;
  const failed = await docker(env, ['pull', ref2]);
  assert.notEqual(failed.code, 0);
  assert.match(failed.stderr + failed.stdout, /cut off/);
  const partial = join(d.root, 'registry-downloads', `${digest2.slice(7)}.partial`);
  const kept = (await stat(partial)).size;
  assert.ok(kept > 0);
  ok(await docker(env, ['pull', ref2]), 'docker pull again');
  const last = proxy2.seen.at(-1)!;
  assert.deepEqual(last, { range: `bytes=${kept}-`, cut: false });
  assert.equal(proxy2.seen.length, 6);
  // Verified and moved into the store: no partial file is left behind.
  assert.deepEqual(await readdir(join(d.root, 'registry-downloads')), []);
  ok(await docker(env, ['image', 'inspect', ref2]), 'inspect');
});
