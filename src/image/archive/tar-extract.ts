// Streams a (possibly compressed) tar from a Node stream straight into GNU tar
// -x, so `docker load` never stores the archive itself on disk. GNU tar can
// only auto-detect compression on seekable files, so the first bytes are
// sniffed here and the matching flag passed.
import type { Readable } from 'node:stream';
import { invalid } from '../../errdefs.js';
import { feedTar } from '../../snapshot/tar-feed.js';

function compressionFlag(head: Buffer): string[] {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return ['-z'];
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return ['-j'];
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return ['-J'];
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return ['--zstd'];
  return [];
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
