// Streams a (possibly compressed) tar from a Node stream straight into GNU tar
// -x, so `docker load` never stores the archive itself on disk. GNU tar can
// only auto-detect compression on seekable files, so the first bytes are
// sniffed here and the matching flag passed.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { invalid } from '../errdefs.js';

function compressionFlag(head: Buffer): string[] {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return ['-z'];
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return ['-j'];
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return ['-J'];
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return ['--zstd'];
  return [];
}

/** Extracts `input` into `dir` (which must exist); extra args go to tar. Rejects with invalid on a bad archive. */
export async function extractTarStream(input: NodeJS.ReadableStream, dir: string, extraArgs: string[] = []): Promise<void> {
  const it = (input as Readable)[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let have = 0;
  let done = false;
  while (have < 6) {
    const r = (await it.next()) as IteratorResult<Buffer | string>;
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
  const child = spawn('tar', ['-x', ...compressionFlag(head), '-f', '-', '-C', dir, ...extraArgs], { stdio: ['pipe', 'ignore', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (b: Buffer) => stderr.push(b));
  let tarRunning = true;
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', (err) => {
      tarRunning = false;
      reject(err);
    });
    child.on('close', (code) => {
      tarRunning = false;
      resolve(code ?? 1);
    });
  });
  child.stdin.on('error', () => {
    tarRunning = false; // EPIPE: tar gave up; its exit status says why
  });
  const write = async (b: Buffer): Promise<void> => {
    if (!tarRunning) return;
    if (!child.stdin.write(b)) await Promise.race([once(child.stdin, 'drain'), exited.catch(() => undefined)]);
  };
  // Feed by hand rather than pipe(): if tar fails early the rest of the input is
  // still read (and dropped), so an HTTP request stays usable for the error reply.
  try {
    await write(head);
    if (!done) {
      for (let r = await it.next(); !r.done; r = await it.next()) {
        await write(typeof r.value === 'string' ? Buffer.from(r.value) : (r.value as Buffer));
      }
    }
  } catch (err) {
    // The input broke (client went away): stop tar rather than leave it waiting.
    child.kill();
    await exited.catch(() => undefined);
    throw err;
  }
  child.stdin.end();
  const code = await exited;
  if (code !== 0) {
    const first = Buffer.concat(stderr).toString('utf8').trim().split('\n')[0]?.replace(/^tar: /, '');
    throw invalid(`not a readable tar archive: ${first || `tar exit ${code}`}`);
  }
}
