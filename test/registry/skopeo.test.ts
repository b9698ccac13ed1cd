// The real client: skopeo pushes, inspects, pulls, lists, deletes and mounts
// against tug's registry, using OCI layouts built locally (no network).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestRegistry, tempDir, buildOciLayout, skopeo, suffix, http, type TestRegistry } from './helpers.js';

let reg: TestRegistry;
let work: string;
const responses: { method: string; url: string; status: number }[] = [];
before(async () => {
  reg = await startTestRegistry({ onResponse: (method, url, status) => responses.push({ method, url, status }) });
  work = await tempDir('skopeo');
});
after(async () => {
  await reg.stop();
  await rm(work, { recursive: true, force: true });
});

async function topDigest(layout: string): Promise<string> {
  return JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')).manifests[0].digest;
}

const NO_TLS = ['--src-tls-verify=false', '--dest-tls-verify=false'];

test('skopeo copy to the registry, inspect, copy back with equal digests, list-tags, delete', async () => {
  const src = join(work, `img-${suffix()}`);
  await buildOciLayout(src, 'v1', { layers: 3, bytesPerLayer: 200_000 });
  const repo = `skopeo/app${suffix()}`;
  const ref = `docker://${reg.hostPort}/${repo}`;
  await skopeo(['copy', ...NO_TLS, `oci:${src}:v1`, `${ref}:v1`]);
  await skopeo(['copy', ...NO_TLS, `oci:${src}:v1`, `${ref}:v2`]);
  const info = JSON.parse((await skopeo(['inspect', '--tls-verify=false', `${ref}:v1`])).stdout);
  assert.equal(info.Digest, await topDigest(src));
  assert.equal(info.Layers.length, 3);
  assert.equal(info.Architecture, 'amd64');

  const back = join(work, `back-${suffix()}`);
  await skopeo(['copy', ...NO_TLS, `${ref}:v1`, `oci:${back}:v1`]);
  assert.equal(await topDigest(back), await topDigest(src));
  const manifest = JSON.parse(await readFile(join(back, 'blobs', 'sha256', (await topDigest(back)).slice(7)), 'utf8'));
  for (const l of manifest.layers) {
    assert.deepEqual(await readFile(join(back, 'blobs', 'sha256', l.digest.slice(7))), await readFile(join(src, 'blobs', 'sha256', l.digest.slice(7))));
  }

  const tags = JSON.parse((await skopeo(['list-tags', '--tls-verify=false', ref])).stdout);
  assert.deepEqual(tags.Tags, ['v1', 'v2']);
  await skopeo(['delete', '--tls-verify=false', `${ref}:v1`]);
  // Deleting by digest removes the manifest and so both tags that named it.
  const after = await http('GET', `${reg.url}/v2/${repo}/manifests/v2`);
  assert.equal(after.status, 404);
});

test('skopeo copy --all of a multi-arch index, and back', async () => {
  const src = join(work, `multi-${suffix()}`);
  await buildOciLayout(src, 'multi', { archs: ['amd64', 'arm64'] });
  const ref = `docker://${reg.hostPort}/skopeo/multi${suffix()}:latest`;
  await skopeo(['copy', '--all', ...NO_TLS, `oci:${src}:multi`, ref]);
  const raw = JSON.parse((await skopeo(['inspect', '--raw', '--tls-verify=false', ref])).stdout);
  assert.equal(raw.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.deepEqual(raw.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture), ['amd64', 'arm64']);
  const arm = JSON.parse((await skopeo(['inspect', '--override-arch', 'arm64', '--tls-verify=false', ref])).stdout);
  assert.equal(arm.Architecture, 'arm64');
  const back = join(work, `multiback-${suffix()}`);
  await skopeo(['copy', '--all', ...NO_TLS, ref, `oci:${back}:multi`]);
  assert.equal(await topDigest(back), await topDigest(src));
});

test('skopeo copy between two repositories of the registry mounts the blobs', async () => {
  const src = join(work, `mnt-${suffix()}`);
  await buildOciLayout(src, 'v1', { layers: 2 });
  const a = `skopeo/from${suffix()}`;
  const b = `skopeo/to${suffix()}`;
  await skopeo(['copy', ...NO_TLS, `oci:${src}:v1`, `docker://${reg.hostPort}/${a}:v1`]);
  await skopeo(['copy', ...NO_TLS, `docker://${reg.hostPort}/${a}:v1`, `docker://${reg.hostPort}/${b}:v1`]);
  const mounts = responses.filter((r) => r.method === 'POST' && r.url.startsWith(`/v2/${b}/blobs/uploads/`) && r.url.includes('mount=') && r.status === 201);
  assert.ok(mounts.length >= 2, `expected layer mounts into ${b}, saw ${JSON.stringify(responses.filter((r) => r.url.includes(b)))}`);
  const info = JSON.parse((await skopeo(['inspect', '--tls-verify=false', `docker://${reg.hostPort}/${b}:v1`])).stdout);
  assert.equal(info.Digest, await topDigest(src));
});

test('skopeo copy --format v2s2 stores a Docker schema2 manifest', async () => {
  const src = join(work, `v2s2-${suffix()}`);
  await buildOciLayout(src, 'v1');
  const ref = `docker://${reg.hostPort}/skopeo/docker${suffix()}:v1`;
  await skopeo(['copy', '--format', 'v2s2', ...NO_TLS, `oci:${src}:v1`, ref]);
  const raw = JSON.parse((await skopeo(['inspect', '--raw', '--tls-verify=false', ref])).stdout);
  assert.equal(raw.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  assert.equal(raw.config.mediaType, 'application/vnd.docker.container.image.v1+json');
  const back = join(work, `v2s2back-${suffix()}`);
  await skopeo(['copy', ...NO_TLS, ref, `oci:${back}:v1`]);
  const info = JSON.parse((await skopeo(['inspect', `oci:${back}:v1`])).stdout);
  assert.equal(info.Architecture, 'amd64');
});
