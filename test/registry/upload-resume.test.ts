// An upload cut off mid-PATCH resumes from where the server got to, even after
// the server restarts; abandoned sessions are purged by age.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { startTestRegistry, tempDir, http, errorCode, sha256, suffix } from './helpers.js';

test('chunked upload cut off in the middle resumes after a server restart', async () => {
  const root = await tempDir('resume');
  let reg = await startTestRegistry({ root });
  try {
    const repo = `resume/r${suffix()}`;
    const data = randomBytes(4 * 1024 * 1024);
    const half = 1536 * 1024;
    const loc = (await http('POST', `${reg.url}/v2/${repo}/blobs/uploads/`)).headers.get('location')!;

    // Stream the first part of a PATCH that claims the whole blob, then cut the connection.
    const req = request(`${reg.url}${loc}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length) },
    });
    req.on('error', () => undefined);
    req.write(data.subarray(0, half));
    // Wait (bounded) until the server has those bytes on disk, so the cut is mid-request.
    let seen = '';
    for (let i = 0; i < 200 && seen !== `0-${half - 1}`; i++) {
      seen = (await http('GET', `${reg.url}${loc}`)).headers.get('range') ?? '';
      if (seen !== `0-${half - 1}`) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(seen, `0-${half - 1}`);
    req.destroy();

    await reg.close();
    reg = await startTestRegistry({ root });

    const status = await http('GET', `${reg.url}${loc}`);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), `0-${half - 1}`);
    const rest = await http('PATCH', `${reg.url}${loc}`, {
      body: data.subarray(half),
      headers: { 'Content-Range': `${half}-${data.length - 1}`, 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(rest.status, 202);
    assert.equal(rest.headers.get('range'), `0-${data.length - 1}`);
    const put = await http('PUT', `${reg.url}${loc}?digest=${sha256(data)}`);
    assert.equal(put.status, 201);
    const got = await http('GET', `${reg.url}/v2/${repo}/blobs/${sha256(data)}`);
    assert.equal(sha256(got.body), sha256(data));
  } finally {
    await reg.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('a PATCH cut off midway keeps every byte it delivered, shows no blob, and resumes in the same server', async () => {
  const reg = await startTestRegistry();
  try {
    const repo = `cut/r${suffix()}`;
    const data = randomBytes(6 * 1024 * 1024 + 777);
    const sent = 2 * 1024 * 1024 + 4321; // not a multiple of the server's write batches
    const loc = (await http('POST', `${reg.url}/v2/${repo}/blobs/uploads/`)).headers.get('location')!;
    const req = request(`${reg.url}${loc}`, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length) } });
    req.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => req.write(data.subarray(0, sent), (err) => (err ? reject(err) : resolve())));
    // Cut without waiting for the server to write anything: what it received is kept all the same.
    req.destroy();

    const digest = sha256(data);
    assert.equal((await http('HEAD', `${reg.url}/v2/${repo}/blobs/${digest}`)).status, 404);
    let have = -1;
    for (let i = 0; i < 200 && have !== sent; i++) {
      const st = await http('GET', `${reg.url}${loc}`);
      assert.equal(st.status, 204);
      have = Number(st.headers.get('range')!.split('-')[1]) + 1;
      if (have !== sent) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(have, sent);

    // Finishing early is refused and publishes nothing. (Until the server has seen
    // the connection close, the session is still busy with the cut request.)
    let early = await http('PUT', `${reg.url}${loc}?digest=${digest}`);
    for (let i = 0; i < 200 && early.status === 400 && errorCode(early) === 'BLOB_UPLOAD_INVALID'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      early = await http('PUT', `${reg.url}${loc}?digest=${digest}`);
    }
    assert.equal(early.status, 400);
    assert.equal(errorCode(early), 'DIGEST_INVALID');
    assert.equal((await http('HEAD', `${reg.url}/v2/${repo}/blobs/${digest}`)).status, 404);

    const rest = await http('PATCH', `${reg.url}${loc}`, {
      body: data.subarray(sent),
      headers: { 'Content-Range': `${sent}-${data.length - 1}`, 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(rest.status, 202);
    assert.equal(rest.headers.get('range'), `0-${data.length - 1}`);
    assert.equal((await http('PUT', `${reg.url}${loc}?digest=${digest}`)).status, 201);
    const got = await http('GET', `${reg.url}/v2/${repo}/blobs/${digest}`);
    assert.equal(got.body.length, data.length);
    assert.equal(sha256(got.body), digest);
  } finally {
    await reg.stop();
  }
});

test('abandoned upload sessions older than the TTL are purged, fresh ones kept', async () => {
  const reg = await startTestRegistry();
  try {
    const repo = `purge/r${suffix()}`;
    const loc = (await http('POST', `${reg.url}/v2/${repo}/blobs/uploads/`)).headers.get('location')!;
    await http('PATCH', `${reg.url}${loc}`, { body: randomBytes(100) });
    assert.equal(await reg.registry.uploads.purgeStale(3600_000), 0);
    assert.equal((await http('GET', `${reg.url}${loc}`)).status, 204);
    assert.equal(await reg.registry.uploads.purgeStale(3600_000, Date.now() + 2 * 3600_000), 1);
    const gone = await http('GET', `${reg.url}${loc}`);
    assert.equal(gone.status, 404);
    assert.equal(errorCode(gone), 'BLOB_UPLOAD_UNKNOWN');
  } finally {
    await reg.stop();
  }
});

test('blob uploads beyond maxConcurrentUploads get 429 TOOMANYREQUESTS until one ends', async () => {
  const reg = await startTestRegistry({ maxConcurrentUploads: 1 });
  try {
    const repo = `busy/r${suffix()}`;
    const loc = (await http('POST', `${reg.url}/v2/${repo}/blobs/uploads/`)).headers.get('location')!;
    const req = request(`${reg.url}${loc}`, { method: 'PATCH', headers: { 'Content-Length': '2000' } });
    req.on('error', () => undefined);
    req.write(randomBytes(1000));
    let seen = '';
    for (let i = 0; i < 200 && seen !== '0-999'; i++) {
      seen = (await http('GET', `${reg.url}${loc}`)).headers.get('range') ?? '';
      if (seen !== '0-999') await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(seen, '0-999');
    const busy = await http('POST', `${reg.url}/v2/${repo}/blobs/uploads/`);
    assert.equal(busy.status, 429);
    assert.equal(errorCode(busy), 'TOOMANYREQUESTS');
    req.destroy();
    let status = 0;
    for (let i = 0; i < 200 && status !== 202; i++) {
      status = (await http('POST', `${reg.url}/v2/${repo}/blobs/uploads/`)).status;
      if (status !== 202) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(status, 202);
  } finally {
    await reg.stop();
  }
});
