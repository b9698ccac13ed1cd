// sha256 digests as OCI writes them: 'sha256:<64 lowercase hex>'. Blobs, image
// IDs and layer diff IDs all use this one form.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { invalid } from '../errdefs.js';

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

/** Returns the digest unchanged, or throws invalid naming what was wrong with it. */
export function validateDigest(s: string, what = 'digest'): string {
  if (!isDigest(s)) throw invalid(`invalid ${what} ${JSON.stringify(s)}: want sha256:<64 hex digits>`);
  return s;
}

export function digestOf(data: Uint8Array | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** The hex part of a digest ('sha256:abc…' -> 'abc…'). */
export function hexOf(digest: string): string {
  return validateDigest(digest).slice('sha256:'.length);
}

/** Digest and byte count of everything a stream yields (consumes the stream). */
export async function digestOfStream(input: NodeJS.ReadableStream): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(
    input,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb();
      },
    }),
  );
  return { digest: 'sha256:' + hash.digest('hex'), size };
}

export function digestOfFile(path: string): Promise<{ digest: string; size: number }> {
  return digestOfStream(createReadStream(path));
}

export type Compression = 'gzip' | 'zstd' | 'none';

/** The compressions an archive (docker load, docker cp, ADD) may come in, as tar itself knows them. */
export type ArchiveCompression = 'gzip' | 'bzip2' | 'xz' | 'zstd';

/** Magic bytes of gzip, bzip2, xz and zstd: the one place tug tells them apart. */
export function archiveCompressionOf(head: Uint8Array): ArchiveCompression | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2'; // 'BZh'
  if (head.length >= 6 && head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a && head[5] === 0x00) return 'xz';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return undefined;
}

/** Compression of a layer blob, told by its magic bytes (media types lie too often); layers come gzipped, zstd'ed or plain. */
export function compressionOf(head: Uint8Array): Compression {
  const c = archiveCompressionOf(head);
  return c === 'gzip' || c === 'zstd' ? c : 'none';
}

export async function compressionOfFile(path: string): Promise<Compression> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return compressionOf(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** The diff ID of a layer blob: digest of the uncompressed tar. */
export async function diffIdOfFile(path: string): Promise<{ diffId: string; compression: Compression; uncompressedSize: number }> {
  const compression = await compressionOfFile(path);
  if (compression === 'zstd') throw invalid(`layer ${path}: zstd-compressed layers are not supported`);
  if (compression === 'none') {
    const { digest, size } = await digestOfFile(path);
    return { diffId: digest, compression, uncompressedSize: size };
  }
  const gunzip = createGunzip();
  const done = digestOfStream(gunzip);
  await pipeline(createReadStream(path), gunzip).catch((err: unknown) => {
    throw invalid(`layer ${path}: bad gzip data: ${err instanceof Error ? err.message : String(err)}`);
  });
  const { digest, size } = await done;
  return { diffId: digest, compression, uncompressedSize: size };
}
