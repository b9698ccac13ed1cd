// A blob the registry acknowledged (201 on the final PUT) is there after the
// server is killed with SIGKILL right after the answer, and an upload that was
// still streaming when the server died resumes from the bytes it really kept.
// (A SIGKILL loses what the process held, not the page cache: what this shows is
// that nothing needed for the blob is still in the process when the 201 goes
// out. That the bytes reach the disk is the fsync-then-rename before the 201.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir, http, sha256, suffix } from './helpers.js';

const mainJs = fileURLToPath(new URL('../../src/registry/main.js', import.meta.url));
const script = `import(${JSON.stringify(mainJs)}).then(m => m.runRegistryCommand(process.argv.slice(1)))`;

async function serve(root: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['-e', script, 'serve', '--addr', '127.0.0.1:0', '--root', root], { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /listening on (\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  return { child, url };
}

async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

test('an acknowledged blob survives SIGKILL; an upload cut by it resumes from what was kept', async () => {
  const root = await tempDir('crash');
  let srv = await serve(root);
  try {
    const repo = `crash/r${suffix()}`;
    // Large enough for several background datasyncs (one per 8 MiB) before the last one.
    const blob = randomBytes(40 * 1024 * 1024 + 12345);
    const loc = (await http('POST', `${srv.url}/v2/${repo}/blobs/uploads/`)).headers.get('location')!;
    const patch = await http('PATCH', `${srv.url}${loc}`, { body: blob, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(patch.status, 202);
    const put = await http('PUT', `${srv.url}${loc}?digest=${sha256(blob)}`);
    assert.equal(put.status, 201);

    // A second upload, still streaming when the server dies.
    const other = randomBytes(24 * 1024 * 1024);
    const loc2 = (await http('POST', `${srv.url}/v2/${repo}/blobs/uploads/`)).headers.get('location')!;
    const req = request(`${srv.url}${loc2}`, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(other.length) } });
    req.on('error', () => undefined);
    req.write(other.subarray(0, 10 * 1024 * 1024));
    let kept = 0;
    for (let i = 0; i < 400 && kept < 10 * 1024 * 1024; i++) {
      kept = Number((await http('GET', `${srv.url}${loc2}`)).headers.get('range')?.split('-')[1] ?? '-1') + 1;
      if (kept < 10 * 1024 * 1024) await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(kept, 10 * 1024 * 1024);

    await kill9(srv.child);
    req.destroy();
    srv = await serve(root);

    const head = await http('HEAD', `${srv.url}/v2/${repo}/blobs/${sha256(blob)}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(blob.length));
    const got = await http('GET', `${srv.url}/v2/${repo}/blobs/${sha256(blob)}`);
    assert.equal(sha256(got.body), sha256(blob));

    // The cut upload: its status says how many bytes are kept, and they are the
    // ones sent (the digest of the finished blob proves it).
    const status = await http('GET', `${srv.url}${loc2}`);
    assert.equal(status.status, 204);
    const have = Number(status.headers.get('range')!.split('-')[1]) + 1;
    assert.equal(have, 10 * 1024 * 1024);
    const rest = await http('PATCH', `${srv.url}${loc2}`, {
      body: other.subarray(have),
      headers: { 'Content-Range': `${have}-${other.length - 1}`, 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(rest.status, 202);
    const put2 = await http('PUT', `${srv.url}${loc2}?digest=${sha256(other)}`);
    assert.equal(put2.status, 201);
    assert.equal(sha256((await http('GET', `${srv.url}/v2/${repo}/blobs/${sha256(other)}`)).body), sha256(other));
    // No upload session left behind once both blobs are in.
    assert.deepEqual(await readdir(join(root, 'repositories', ...repo.split('/'), '_uploads')).catch(() => []), []);
  } finally {
    await kill9(srv.child);
    await rm(root, { recursive: true, force: true });
  }
});
