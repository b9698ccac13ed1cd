// Extracts an archive that came from outside (docker cp's PUT body, a build's
// ADD of a tar) into a directory inside a ScopedRoot, all or nothing: the
// archive is kept in a spool file, read once to check it whole (that it is a
// tar, that no name or hard link leaves the destination), and only then
// written; a write that fails half-way is rolled back. Compressed archives are
// decompressed from that file's bytes (gzip in process; bzip2, xz and zstd by
// their tools, which read only the stream, never a tree).
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { invalid } from '../errdefs.js';
import { archiveCompressionOf, type ArchiveCompression } from '../oci/digest.js';
import type { ScopedRoot } from './scoped-root.js';
import { splitPath } from './scoped-root.js';
import { entriesFromTar } from './tar-codec.js';
import { entryTarget, writeTree, type WriteTreeOptions } from './tree-writer.js';

type Decompressor = ArchiveCompression | undefined;

async function sniff(file: string): Promise<Decompressor> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(6);
    const { bytesRead } = await fh.read(head, 0, 6, 0);
    if (bytesRead === 0) throw invalid('empty archive: no bytes were sent');
    return archiveCompressionOf(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** The archive's tar bytes: the file itself, or what its decompressor makes of it. */
function tarStream(file: string, how: Decompressor): Readable {
  const raw = createReadStream(file);
  if (!how) return raw;
  if (how === 'gzip') {
    const gunzip = createGunzip();
    raw.on('error', (err) => gunzip.destroy(err));
    return raw.pipe(gunzip);
  }
  const tool = spawn(how, ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const out = tool.stdout;
  tool.stdin.on('error', () => undefined); // the tool stopped reading: its exit status says why
  raw.on('error', (err) => out.destroy(err));
  raw.pipe(tool.stdin);
  tool.on('error', (err) => out.destroy(err));
  tool.on('close', (code) => {
    if (code !== 0) out.destroy(invalid(`${how}: the archive does not decompress (exit ${code})`));
  });
  return out;
}

/** Reads the archive once without writing: refuses a broken tar or a name that would land outside the destination. */
async function check(file: string, how: Decompressor, destParts: string[]): Promise<void> {
  for await (const e of entriesFromTar(tarStream(file, how))) {
    entryTarget(destParts, e.name);
    if (e.type === 'link') entryTarget(destParts, e.linkname ?? '');
    if (e.body) for await (const chunk of e.body) void chunk;
  }
}

/** Extracts an archive file (maybe compressed) into destPath inside root; nothing is left if it fails. */
export async function extractArchiveFile(file: string, root: ScopedRoot, destPath: string, opts: WriteTreeOptions = {}): Promise<void> {
  const how = await sniff(file);
  await check(file, how, splitPath(destPath));
  await writeTree(root, destPath, entriesFromTar(tarStream(file, how)), opts);
}

/** Spools a streamed archive under spoolDir, then extracts it as extractArchiveFile does. */
export async function extractArchiveStream(input: NodeJS.ReadableStream, spoolDir: string, root: ScopedRoot, destPath: string, opts: WriteTreeOptions = {}): Promise<void> {
  const dir = await mkdtemp(join(spoolDir, 'archive-'));
  try {
    const file = join(dir, 'archive');
    await pipeline(input, createWriteStream(file, { mode: 0o600 }));
    await extractArchiveFile(file, root, destPath, opts);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
