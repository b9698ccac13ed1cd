import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, createWriteStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { ImageStore } from '../../src/image/image-store.js';
import { runTool } from '../../src/util/exec-file.js';
import { tempRoot } from './helpers.js';

test('skopeo reads our saved tar as a docker-archive, and its gzip OCI archive loads back', async (t) => {
  const a = await tempRoot();
  const b = await tempRoot();
  t.after(a.cleanup);
  t.after(b.cleanup);
  const src = await ImageStore.open(a.root);
  const bb = await src.get('busybox');
  const saved = join(a.root, 'saved.tar');
  const out = createWriteStream(saved);
  await src.save(['busybox'], out);
  if (!out.closed) await once(out, 'close');

  const inspect = JSON.parse((await runTool('skopeo', ['inspect', '--config', `docker-archive:${saved}:busybox:latest`])).stdout) as {
    rootfs: { diff_ids: string[] };
  };
  assert.deepEqual(inspect.rootfs.diff_ids, bb.config.rootfs.diff_ids);

  // skopeo recompresses layers with gzip and names the image only by org.opencontainers.image.ref.name.
  const oci = join(a.root, 'oci.tar');
  await runTool('skopeo', ['copy', '-q', `docker-archive:${saved}:busybox:latest`, `oci-archive:${oci}:localhost/copied:2`]);
  const dst = await ImageStore.open(b.root);
  assert.deepEqual(await dst.load(createReadStream(oci)), ['Loaded image: localhost/copied:2']);
  const img = await dst.get('localhost/copied:2');
  assert.equal(img.layers[0]!.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  assert.deepEqual(img.config.rootfs.diff_ids, bb.config.rootfs.diff_ids);
  assert.equal(img.size, bb.size);
  const [lower] = await dst.lowerDirs(img);
  await access(join(lower!, 'bin', 'sh'));
});
