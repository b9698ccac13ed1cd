// Raw HTTP against the registry: every endpoint and error path of the spec.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  startTestRegistry,
  http,
  errorCode,
  pushBlob,
  pushImage,
  sha256,
  suffix,
  OCI_MANIFEST,
  OCI_INDEX,
  type TestRegistry,
} from './helpers.js';

let reg: TestRegistry;
let base: string;
before(async () => {
  reg = await startTestRegistry();
  base = reg.url;
});
after(async () => reg.stop());

test('GET /v2/ answers 200 with the API version header', async () => {
  const r = await http('GET', `${base}/v2/`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('docker-distribution-api-version'), 'registry/2.0');
});

test('monolithic push, then HEAD, GET and Range GETs of the blob', async () => {
  const repo = `mono/r${suffix()}`;
  const data = randomBytes(5000);
  const digest = await pushBlob(base, repo, data);
  const head = await http('HEAD', `${base}/v2/${repo}/blobs/${digest}`);
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '5000');
  assert.equal(head.headers.get('docker-content-digest'), digest);
  assert.equal(head.body.length, 0);
  const get = await http('GET', `${base}/v2/${repo}/blobs/${digest}`);
  assert.equal(get.status, 200);
  assert.deepEqual(get.body, data);
  const part = await http('GET', `${base}/v2/${repo}/blobs/${digest}`, { headers: { Range: 'bytes=100-199' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), 'bytes 100-199/5000');
  assert.equal(part.headers.get('content-length'), '100');
  assert.deepEqual(part.body, data.subarray(100, 200));
  const tail = await http('GET', `${base}/v2/${repo}/blobs/${digest}`, { headers: { Range: 'bytes=-10' } });
  assert.equal(tail.status, 206);
  assert.deepEqual(tail.body, data.subarray(4990));
  const open = await http('GET', `${base}/v2/${repo}/blobs/${digest}`, { headers: { Range: 'bytes=4000-' } });
  assert.deepEqual(open.body, data.subarray(4000));
  const bad = await http('GET', `${base}/v2/${repo}/blobs/${digest}`, { headers: { Range: 'bytes=6000-7000' } });
  assert.equal(bad.status, 416);
  assert.equal(bad.headers.get('content-range'), 'bytes */5000');
});

test('monolithic push with the wrong digest is DIGEST_INVALID and stores nothing', async () => {
  const repo = `mono/bad${suffix()}`;
  const wrong = sha256('something else');
  const r = await http('POST', `${base}/v2/${repo}/blobs/uploads/?digest=${wrong}`, { body: randomBytes(100) });
  assert.equal(r.status, 400);
  assert.equal(errorCode(r), 'DIGEST_INVALID');
  assert.equal((await http('HEAD', `${base}/v2/${repo}/blobs/${wrong}`)).status, 404);
  const bad = await http('POST', `${base}/v2/${repo}/blobs/uploads/?digest=md5:abc`, { body: 'x' });
  assert.equal(errorCode(bad), 'DIGEST_INVALID');
});

test('POST then PUT with the whole body', async () => {
  const repo = `postput/r${suffix()}`;
  const data = randomBytes(3000);
  const post = await http('POST', `${base}/v2/${repo}/blobs/uploads/`);
  assert.equal(post.status, 202);
  const loc = post.headers.get('location')!;
  assert.match(loc, new RegExp(`^/v2/${repo}/blobs/uploads/[0-9a-f-]{36}$`));
  assert.ok(post.headers.get('docker-upload-uuid'));
  const put = await http('PUT', `${base}${loc}?digest=${sha256(data)}`, { body: data, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(put.status, 201);
  assert.equal(put.headers.get('location'), `/v2/${repo}/blobs/${sha256(data)}`);
  assert.equal(put.headers.get('docker-content-digest'), sha256(data));
  assert.deepEqual((await http('GET', `${base}/v2/${repo}/blobs/${sha256(data)}`)).body, data);
});

test('chunked upload: PATCH with Content-Range, status, 416 out of order, final chunk in PUT, cancel', async () => {
  const repo = `chunked/r${suffix()}`;
  const data = randomBytes(3000);
  const post = await http('POST', `${base}/v2/${repo}/blobs/uploads/`);
  const loc = post.headers.get('location')!;
  const p1 = await http('PATCH', `${base}${loc}`, { body: data.subarray(0, 1000), headers: { 'Content-Range': '0-999', 'Content-Type': 'application/octet-stream' } });
  assert.equal(p1.status, 202);
  assert.equal(p1.headers.get('range'), '0-999');
  assert.equal(p1.headers.get('location'), loc);
  const status = await http('GET', `${base}${loc}`);
  assert.equal(status.status, 204);
  assert.equal(status.headers.get('range'), '0-999');
  const skip = await http('PATCH', `${base}${loc}`, { body: data.subarray(2000), headers: { 'Content-Range': '2000-2999' } });
  assert.equal(skip.status, 416);
  assert.equal(errorCode(skip), 'BLOB_UPLOAD_INVALID');
  // A PATCH without Content-Range (Docker's streamed style) appends.
  const p2 = await http('PATCH', `${base}${loc}`, { body: data.subarray(1000, 2000) });
  assert.equal(p2.headers.get('range'), '0-1999');
  const wrong = await http('PUT', `${base}${loc}?digest=${sha256('nope')}`);
  assert.equal(errorCode(wrong), 'DIGEST_INVALID');
  const put = await http('PUT', `${base}${loc}?digest=${sha256(data)}`, { body: data.subarray(2000), headers: { 'Content-Range': '2000-2999' } });
  assert.equal(put.status, 201);
  assert.deepEqual((await http('GET', `${base}/v2/${repo}/blobs/${sha256(data)}`)).body, data);
  assert.equal(errorCode(await http('GET', `${base}${loc}`)), 'BLOB_UPLOAD_UNKNOWN');

  const post2 = await http('POST', `${base}/v2/${repo}/blobs/uploads/`);
  const loc2 = post2.headers.get('location')!;
  assert.equal((await http('DELETE', `${base}${loc2}`)).status, 204);
  const gone = await http('GET', `${base}${loc2}`);
  assert.equal(gone.status, 404);
  assert.equal(errorCode(gone), 'BLOB_UPLOAD_UNKNOWN');
  assert.equal(errorCode(await http('PUT', `${base}/v2/${repo}/blobs/uploads/not-a-uuid?digest=${sha256(data)}`)), 'BLOB_UPLOAD_UNKNOWN');
  assert.equal(errorCode(await http('PUT', `${base}${loc2}`)), 'DIGEST_INVALID');
});

test('blobs are isolated between repositories; cross-repo mount links them', async () => {
  const a = `iso/a${suffix()}`;
  const b = `iso/b${suffix()}`;
  const digest = await pushBlob(base, a, randomBytes(500));
  const other = await http('HEAD', `${base}/v2/${b}/blobs/${digest}`);
  assert.equal(other.status, 404);
  const getOther = await http('GET', `${base}/v2/${b}/blobs/${digest}`);
  assert.equal(errorCode(getOther), 'BLOB_UNKNOWN');
  // Mount from a repo that does not have it: a fresh upload session.
  const miss = await http('POST', `${base}/v2/${b}/blobs/uploads/?mount=${digest}&from=iso/nothere${suffix()}`);
  assert.equal(miss.status, 202);
  assert.match(miss.headers.get('location')!, /\/blobs\/uploads\//);
  await http('DELETE', `${base}${miss.headers.get('location')}`);
  const mount = await http('POST', `${base}/v2/${b}/blobs/uploads/?mount=${digest}&from=${a}`);
  assert.equal(mount.status, 201);
  assert.equal(mount.headers.get('location'), `/v2/${b}/blobs/${digest}`);
  assert.equal((await http('HEAD', `${base}/v2/${b}/blobs/${digest}`)).status, 200);
});

test('the same blob pushed to several repositories at once: all succeed, no sessions left', async () => {
  const data = randomBytes(200_000);
  const repos = [1, 2, 3].map((i) => `dedup/r${i}${suffix()}`);
  const digests = await Promise.all(repos.map((r) => pushBlob(base, r, data)));
  assert.deepEqual(new Set(digests), new Set([sha256(data)]));
  for (const r of repos) assert.equal((await http('HEAD', `${base}/v2/${r}/blobs/${sha256(data)}`)).status, 200);
  const { readdir } = await import('node:fs/promises');
  // Each one-shot push committed and left no upload session behind.
  for (const r of repos) assert.deepEqual(await readdir(`${reg.root}/repositories/${r}/_uploads`), []);
});

test('blob DELETE unlinks from one repository only', async () => {
  const a = `del/a${suffix()}`;
  const b = `del/b${suffix()}`;
  const digest = await pushBlob(base, a, randomBytes(300));
  await http('POST', `${base}/v2/${b}/blobs/uploads/?mount=${digest}&from=${a}`);
  const del = await http('DELETE', `${base}/v2/${a}/blobs/${digest}`);
  assert.equal(del.status, 202);
  assert.equal((await http('HEAD', `${base}/v2/${a}/blobs/${digest}`)).status, 404);
  assert.equal((await http('HEAD', `${base}/v2/${b}/blobs/${digest}`)).status, 200);
  assert.equal(errorCode(await http('DELETE', `${base}/v2/${a}/blobs/${digest}`)), 'BLOB_UNKNOWN');
});

test('manifest PUT/GET/HEAD by tag and digest, Accept ignored, delete', async () => {
  const repo = `man/r${suffix()}`;
  const img = await pushImage(base, repo, 'v1');
  const get = await http('GET', `${base}/v2/${repo}/manifests/v1`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
  assert.equal(get.status, 200);
  assert.equal(get.headers.get('content-type'), OCI_MANIFEST);
  assert.equal(get.headers.get('docker-content-digest'), img.digest);
  assert.equal(get.body.toString(), img.body);
  const byDigest = await http('GET', `${base}/v2/${repo}/manifests/${img.digest}`);
  assert.equal(byDigest.body.toString(), img.body);
  const head = await http('HEAD', `${base}/v2/${repo}/manifests/v1`);
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(img.body)));
  assert.equal(head.headers.get('docker-content-digest'), img.digest);
  // Same content under a digest reference.
  const put = await http('PUT', `${base}/v2/${repo}/manifests/${img.digest}`, { body: img.body, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(put.status, 201);
  assert.equal(put.headers.get('location'), `/v2/${repo}/manifests/${img.digest}`);
  const unknown = await http('GET', `${base}/v2/${repo}/manifests/nope`);
  assert.equal(unknown.status, 404);
  assert.equal(errorCode(unknown), 'MANIFEST_UNKNOWN');
  // Delete the tag only, then the manifest by digest.
  assert.equal((await http('DELETE', `${base}/v2/${repo}/manifests/v1`)).status, 202);
  assert.equal((await http('GET', `${base}/v2/${repo}/manifests/v1`)).status, 404);
  assert.equal((await http('GET', `${base}/v2/${repo}/manifests/${img.digest}`)).status, 200);
  assert.equal((await http('DELETE', `${base}/v2/${repo}/manifests/${img.digest}`)).status, 202);
  assert.equal(errorCode(await http('GET', `${base}/v2/${repo}/manifests/${img.digest}`)), 'MANIFEST_UNKNOWN');
  assert.equal(errorCode(await http('DELETE', `${base}/v2/${repo}/manifests/${img.digest}`)), 'MANIFEST_UNKNOWN');
});

test('manifest PUT is verified: blobs, digest, JSON, media type, size', async () => {
  const repo = `verify/r${suffix()}`;
  const img = await pushImage(base, repo, 'ok');
  const doc = JSON.parse(img.body);
  const missing = { ...doc, layers: [{ ...doc.layers[0], digest: sha256('absent') }] };
  const r1 = await http('PUT', `${base}/v2/${repo}/manifests/x`, { body: JSON.stringify(missing), headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(r1.status, 400);
  assert.equal(errorCode(r1), 'MANIFEST_BLOB_UNKNOWN');
  // A blob of another repository does not count.
  const otherRepo = `verify/o${suffix()}`;
  const r2 = await http('PUT', `${base}/v2/${otherRepo}/manifests/x`, { body: img.body, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(errorCode(r2), 'MANIFEST_BLOB_UNKNOWN');
  const r3 = await http('PUT', `${base}/v2/${repo}/manifests/${sha256('different')}`, { body: img.body, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(errorCode(r3), 'DIGEST_INVALID');
  const r4 = await http('PUT', `${base}/v2/${repo}/manifests/x`, { body: '{not json', headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(r4.status, 400);
  assert.equal(errorCode(r4), 'MANIFEST_INVALID');
  const r5 = await http('PUT', `${base}/v2/${repo}/manifests/x`, { body: img.body, headers: { 'Content-Type': OCI_INDEX } });
  assert.equal(errorCode(r5), 'MANIFEST_INVALID');
  const r6 = await http('PUT', `${base}/v2/${repo}/manifests/x`, { body: JSON.stringify({ ...doc, mediaType: 'application/x-weird' }), headers: { 'Content-Type': 'application/x-weird' } });
  assert.equal(errorCode(r6), 'MANIFEST_INVALID');
  const huge = JSON.stringify({ ...doc, annotations: { pad: 'x'.repeat(4 * 1024 * 1024) } });
  const r7 = await http('PUT', `${base}/v2/${repo}/manifests/x`, { body: huge, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(r7.status, 413);
  assert.equal(errorCode(r7), 'MANIFEST_INVALID');
  const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('no such'), size: 10 }] };
  const r8 = await http('PUT', `${base}/v2/${repo}/manifests/idx`, { body: JSON.stringify(index), headers: { 'Content-Type': OCI_INDEX } });
  assert.equal(errorCode(r8), 'MANIFEST_BLOB_UNKNOWN');
  const r9 = await http('PUT', `${base}/v2/${repo}/manifests/bad..tag!`, { body: img.body, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(r9.status, 400);
  assert.equal(errorCode(r9), 'MANIFEST_INVALID');
});

test('Docker schema2 manifest and manifest list round-trip with their media types', async () => {
  const repo = `docker/r${suffix()}`;
  const cfg = Buffer.from('{"architecture":"amd64","os":"linux"}');
  const layer = randomBytes(200);
  await pushBlob(base, repo, cfg);
  await pushBlob(base, repo, layer);
  const V2 = 'application/vnd.docker.distribution.manifest.v2+json';
  const LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
  const m = JSON.stringify({
    schemaVersion: 2,
    mediaType: V2,
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha256(cfg), size: cfg.length },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha256(layer), size: layer.length }],
  });
  assert.equal((await http('PUT', `${base}/v2/${repo}/manifests/amd64`, { body: m, headers: { 'Content-Type': V2 } })).status, 201);
  const list = JSON.stringify({ schemaVersion: 2, mediaType: LIST, manifests: [{ mediaType: V2, digest: sha256(m), size: m.length, platform: { architecture: 'amd64', os: 'linux' } }] });
  assert.equal((await http('PUT', `${base}/v2/${repo}/manifests/latest`, { body: list, headers: { 'Content-Type': LIST } })).status, 201);
  const got = await http('GET', `${base}/v2/${repo}/manifests/latest`, { headers: { Accept: OCI_INDEX } });
  assert.equal(got.headers.get('content-type'), LIST);
  assert.equal(got.headers.get('docker-content-digest'), sha256(list));
  const one = await http('GET', `${base}/v2/${repo}/manifests/amd64`);
  assert.equal(one.headers.get('content-type'), V2);
});

test('names and tags are checked; unknown repositories are NAME_UNKNOWN', async () => {
  const upper = await http('GET', `${base}/v2/Upper/Case/tags/list`);
  assert.equal(upper.status, 400);
  assert.equal(errorCode(upper), 'NAME_INVALID');
  // A component may not start with "_" (our metadata dirs) or be empty.
  assert.equal(errorCode(await http('GET', `${base}/v2/a/_layers/manifests/latest`)), 'NAME_INVALID');
  assert.equal(errorCode(await http('GET', `${base}/v2/a//b/manifests/latest`)), 'NAME_INVALID');
  assert.equal(errorCode(await http('GET', `${base}/v2/a/-b/tags/list`)), 'NAME_INVALID');
  const unknown = await http('GET', `${base}/v2/no/such${suffix()}/tags/list`);
  assert.equal(unknown.status, 404);
  assert.equal(errorCode(unknown), 'NAME_UNKNOWN');
  const method = await http('PATCH', `${base}/v2/x/manifests/latest`);
  assert.equal(method.status, 405);
  assert.equal(errorCode(method), 'UNSUPPORTED');
});

test('tags/list and _catalog paginate with n, last and Link', async () => {
  const repo = `page/r${suffix()}`;
  const img = await pushImage(base, repo, 't0');
  for (const t of ['t1', 't2', 't3', 't4']) {
    await http('PUT', `${base}/v2/${repo}/manifests/${t}`, { body: img.body, headers: { 'Content-Type': OCI_MANIFEST } });
  }
  const all = await http('GET', `${base}/v2/${repo}/tags/list`);
  assert.deepEqual(all.json(), { name: repo, tags: ['t0', 't1', 't2', 't3', 't4'] });
  assert.equal(all.headers.get('link'), null);
  const p1 = await http('GET', `${base}/v2/${repo}/tags/list?n=2`);
  assert.deepEqual(p1.json().tags, ['t0', 't1']);
  assert.equal(p1.headers.get('link'), `</v2/${repo}/tags/list?n=2&last=t1>; rel="next"`);
  const p2 = await http('GET', `${base}/v2/${repo}/tags/list?n=2&last=t1`);
  assert.deepEqual(p2.json().tags, ['t2', 't3']);
  const p3 = await http('GET', `${base}/v2/${repo}/tags/list?n=2&last=t3`);
  assert.deepEqual(p3.json().tags, ['t4']);
  assert.equal(p3.headers.get('link'), null);
  assert.equal(errorCode(await http('GET', `${base}/v2/${repo}/tags/list?n=-1`)), 'PAGINATION_NUMBER_INVALID');

  const repo2 = `page/s${suffix()}`;
  await pushImage(base, repo2, 'x');
  const cat = await http('GET', `${base}/v2/_catalog`);
  assert.ok(cat.json().repositories.includes(repo));
  assert.ok(cat.json().repositories.includes(repo2));
  const first = await http('GET', `${base}/v2/_catalog?n=1`);
  assert.equal(first.json().repositories.length, 1);
  const link = first.headers.get('link')!;
  assert.match(link, /^<\/v2\/_catalog\?n=1&last=[^>]+>; rel="next"$/);
  const next = await http('GET', `${base}${link.slice(1, link.indexOf('>'))}`);
  assert.equal(next.json().repositories.length, 1);
  assert.ok(next.json().repositories[0] > first.json().repositories[0]);
});

test('referrers: subject is recorded, OCI-Subject returned, artifactType filter applied', async () => {
  const repo = `ref/r${suffix()}`;
  const subject = await pushImage(base, repo, 'v1');
  const subjectDesc = { mediaType: OCI_MANIFEST, digest: subject.digest, size: Buffer.byteLength(subject.body) };
  const emptyCfg = Buffer.from('{}');
  await pushBlob(base, repo, emptyCfg);
  const mkArtifact = (artifactType: string) =>
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(emptyCfg), size: 2 },
      layers: [],
      subject: subjectDesc,
      annotations: { kind: artifactType },
    });
  const sig = mkArtifact('application/vnd.example.sig');
  const sbom = mkArtifact('application/vnd.example.sbom');
  for (const body of [sig, sbom]) {
    const r = await http('PUT', `${base}/v2/${repo}/manifests/${sha256(body)}`, { body, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('oci-subject'), subject.digest);
  }
  const all = await http('GET', `${base}/v2/${repo}/referrers/${subject.digest}`);
  assert.equal(all.status, 200);
  assert.equal(all.headers.get('content-type'), OCI_INDEX);
  const idx = all.json();
  assert.equal(idx.mediaType, OCI_INDEX);
  assert.deepEqual(idx.manifests.map((m: { digest: string }) => m.digest).sort(), [sha256(sig), sha256(sbom)].sort());
  const filtered = await http('GET', `${base}/v2/${repo}/referrers/${subject.digest}?artifactType=application/vnd.example.sbom`);
  assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
  assert.deepEqual(filtered.json().manifests, [
    { mediaType: OCI_MANIFEST, digest: sha256(sbom), size: Buffer.byteLength(sbom), artifactType: 'application/vnd.example.sbom', annotations: { kind: 'application/vnd.example.sbom' } },
  ]);
  await http('DELETE', `${base}/v2/${repo}/manifests/${sha256(sig)}`);
  const after = await http('GET', `${base}/v2/${repo}/referrers/${subject.digest}`);
  assert.deepEqual(after.json().manifests.map((m: { digest: string }) => m.digest), [sha256(sbom)]);
  const none = await http('GET', `${base}/v2/${repo}/referrers/${sha256('nothing')}`);
  assert.deepEqual(none.json().manifests, []);
  assert.equal(errorCode(await http('GET', `${base}/v2/${repo}/referrers/notadigest`)), 'DIGEST_INVALID');
});

test('read-only mode serves pulls and refuses every write with 405 UNSUPPORTED', async () => {
  const repo = `ro/r${suffix()}`;
  const img = await pushImage(base, repo, 'v1');
  // No write lock is taken in read-only mode, so it can share the root with the writer.
  const ro = await startTestRegistry({ root: reg.root, readOnly: true });
  try {
    assert.equal((await http('GET', `${ro.url}/v2/${repo}/manifests/v1`)).status, 200);
    assert.equal((await http('GET', `${ro.url}/v2/${repo}/blobs/${img.layer}`)).status, 200);
    for (const [method, path] of [
      ['POST', `/v2/${repo}/blobs/uploads/`],
      ['PUT', `/v2/${repo}/manifests/v2`],
      ['DELETE', `/v2/${repo}/manifests/${img.digest}`],
      ['DELETE', `/v2/${repo}/blobs/${img.layer}`],
    ]) {
      const r = await http(method, `${ro.url}${path}`, method === 'PUT' ? { body: img.body, headers: { 'Content-Type': OCI_MANIFEST } } : {});
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(errorCode(r), 'UNSUPPORTED');
    }
    assert.equal((await http('GET', `${ro.url}/v2/${repo}/manifests/v1`)).status, 200);
  } finally {
    await ro.close();
  }
});
