// Streams a (possibly compressed) tar from a Node stream straight into GNU tar
// -x, so `docker load` never stores the archive itself on disk. GNU tar can
// only auto-detect compression on seekable files, so the first bytes are
// sniffed here and the matching flag passed.
import type { Readable } from 'node:stream';
import { invalid } from '../../errdefs.js';
import { archiveCompressionOf } from '../../oci/digest.js';
import { feedTar } from '../../snapshot/tar-feed.js';

const TAR_FLAG = { gzip: '-z', bzip2: '-j', xz: '-J', zstd: '--zstd' } as const;

function compressionFlag(head: Buffer): string[] {
  const c = archiveCompressionOf(head);
  return c ? [TAR_FLAG[c]] : [];
}

/** Extracts `input` into `dir` (which must exist); extra args go to tar. Rejects with invalid on a bad archive. */
export async function extractTarStream(input: NodeJS.ReadableStream, dir: string, extraArgs: string[] = []): Promise<void> {
  const it = (input as Readable)[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const chunks: Buffer[] = [];
  let have = 0;
  let done = false;
  while (have < 6) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    chunks.push(b);
    have += b.length;
  }
  const head = Buffer.concat(chunks);
  if (head.length === 0) throw invalid('empty archive: no bytes were sent');
  const source = (async function* () {
    yield head;
    if (!done) for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  })();
  const res = await feedTar(['-x', ...compressionFlag(head), '-f', '-', '-C', dir, ...extraArgs], source);
  if (res.code !== 0) throw invalid(`not a readable tar archive: ${res.firstError || `tar exit ${res.code}`}`);
}
