// gc: dry-run changes nothing, a real run removes orphans and keeps what tags
// reach, --delete-untagged drops overwritten manifests, and gc refuses to run
// while a registry serves the root for writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { runGc } from '../../src/registry/main.js';
import { startTestRegistry, tempDir, http, pushBlob, pushImage, suffix, buildOciLayout, skopeo } from './helpers.js';

test('gc dry-run lists the orphan and deletes nothing; the real run removes only the orphan', async () => {
  const root = await tempDir('gc');
  const work = await tempDir('gcwork');
  try {
    const repo = `gc/r${suffix()}`;
    let reg = await startTestRegistry({ root });
    const img = await pushImage(reg.url, repo, 'v1');
    await buildOciLayout(`${work}/img`, 'v1', { layers: 2 });
    await skopeo(['copy', '--dest-tls-verify=false', `oci:${work}/img:v1`, `docker://${reg.hostPort}/${repo}:sk`]);
    const orphan = await pushBlob(reg.url, repo, randomBytes(777));
    // The lock: gc refuses while a writer serves this root.
    await assert.rejects(runGc({ root, log: () => undefined }), /locked for writing/);
    await reg.close();

    const lines: string[] = [];
    const dry = await runGc({ root, dryRun: true, log: (l) => lines.push(l) });
    assert.deepEqual(dry.deletedBlobs, [orphan]);
    assert.ok(lines.some((l) => l === `would delete blob ${orphan}`));
    reg = await startTestRegistry({ root });
    assert.equal((await http('HEAD', `${reg.url}/v2/${repo}/blobs/${orphan}`)).status, 200);
    await reg.close();

    const real = await runGc({ root, log: () => undefined });
    assert.deepEqual(real.deletedBlobs, [orphan]);
    reg = await startTestRegistry({ root });
    try {
      assert.equal((await http('HEAD', `${reg.url}/v2/${repo}/blobs/${orphan}`)).status, 404);
      for (const d of [img.config, img.layer, img.digest]) {
        const kind = d === img.digest ? 'manifests' : 'blobs';
        assert.equal((await http('HEAD', `${reg.url}/v2/${repo}/${kind}/${d}`)).status, 200, d);
      }
      await skopeo(['copy', '--src-tls-verify=false', `docker://${reg.hostPort}/${repo}:sk`, `oci:${work}/back:v1`]);
    } finally {
      await reg.close();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
});

test('gc keeps untagged manifests by default and deletes them with deleteUntagged', async () => {
  const root = await tempDir('gcu');
  try {
    const repo = `gc/u${suffix()}`;
    let reg = await startTestRegistry({ root });
    const old = await pushImage(reg.url, repo, 'latest');
    const cur = await pushImage(reg.url, repo, 'latest'); // moves the tag; `old` is now untagged
    await reg.close();

    const keep = await runGc({ root, log: () => undefined });
    assert.deepEqual(keep.deletedBlobs, []);
    const dry = await runGc({ root, deleteUntagged: true, dryRun: true, log: () => undefined });
    assert.deepEqual(dry.deletedManifests, [{ repo, digest: old.digest }]);
    const res = await runGc({ root, deleteUntagged: true, log: () => undefined });
    assert.deepEqual(res.deletedManifests, [{ repo, digest: old.digest }]);
    assert.deepEqual(new Set(res.deletedBlobs), new Set([old.digest, old.config, old.layer]));

    reg = await startTestRegistry({ root });
    try {
      assert.equal((await http('GET', `${reg.url}/v2/${repo}/manifests/${old.digest}`)).status, 404);
      assert.equal((await http('HEAD', `${reg.url}/v2/${repo}/blobs/${old.layer}`)).status, 404);
      assert.equal((await http('GET', `${reg.url}/v2/${repo}/manifests/latest`)).headers.get('docker-content-digest'), cur.digest);
      assert.equal((await http('HEAD', `${reg.url}/v2/${repo}/blobs/${cur.layer}`)).status, 200);
    } finally {
      await reg.close();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
