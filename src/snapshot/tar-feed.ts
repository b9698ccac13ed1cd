// Feeds a stream of bytes into a GNU tar process's stdin by hand.
//
// pipe() would stop at the first EPIPE: if tar quits early (bad archive, or
// simply done after the end-of-archive blocks) the rest of the source would go
// unread. Reading to the end instead means a caller hashing the bytes sees all
// of them, and an HTTP request being read is fully consumed so the server can
// still send its error reply.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

export interface TarResult {
  code: number;
  /** tar's stderr, first line without the 'tar: ' prefix (for one-line errors). */
  firstError: string;
  stderr: string;
}

export async function feedTar(args: string[], source: AsyncIterable<Buffer | string>, onChunk?: (b: Buffer) => void): Promise<TarResult> {
  const child = spawn('tar', args, { stdio: ['pipe', 'ignore', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (b: Buffer) => stderr.push(b));
  let running = true;
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', (err) => {
      running = false;
      reject(err);
    });
    child.on('close', (code) => {
      running = false;
      resolve(code ?? 1);
    });
  });
  child.stdin.on('error', () => {
    running = false; // EPIPE: tar stopped reading; its exit status says why
  });
  try {
    for await (const chunk of source) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      onChunk?.(b);
      if (running && !child.stdin.write(b)) await Promise.race([once(child.stdin, 'drain'), exited.catch(() => undefined)]);
    }
  } catch (err) {
    // The source broke (client went away, bad gzip): stop tar rather than leave it waiting.
    child.kill();
    await exited.catch(() => undefined);
    throw err;
  }
  child.stdin.end();
  const code = await exited;
  const text = Buffer.concat(stderr).toString('utf8').trim();
  return { code, stderr: text, firstError: (text.split('\n')[0] ?? '').replace(/^tar: /, '') };
}
