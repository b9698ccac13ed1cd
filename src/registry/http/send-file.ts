// Sends a byte range of a file as a response body from a few reused buffers:
// a 600 MB pull allocates 4 MiB, not 600 fresh 1 MiB buffers that wait for a
// garbage collection (the registry's peak memory), and reads run ahead of the
// socket by at most the pool.
import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

const CHUNK = 1 << 20;
const POOL = 4;

export async function sendFileRange(res: ServerResponse, path: string, start: number, end: number): Promise<void> {
  const fh = await open(path, 'r');
  try {
    const free: Buffer[] = Array.from({ length: POOL }, () => Buffer.allocUnsafe(CHUNK));
    let waitFree: (() => void) | undefined;
    let failed: Error | undefined;
    const onClose = (): void => {
      if (!res.writableFinished) failed ??= new Error('the client went away');
      waitFree?.();
    };
    res.on('close', onClose);
    try {
      let pos = start;
      while (pos <= end) {
        if (failed) throw failed;
        if (free.length === 0) {
          await new Promise<void>((resolve) => (waitFree = resolve));
          waitFree = undefined;
          continue;
        }
        const buf = free.pop()!;
        const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, end - pos + 1), pos);
        if (bytesRead === 0) throw new Error(`${path} ended at ${pos}, before ${end + 1}`);
        pos += bytesRead;
        // The buffer returns to the pool once the socket has taken its bytes.
        res.write(buf.subarray(0, bytesRead), (err) => {
          if (err) failed ??= err;
          free.push(buf);
          waitFree?.();
        });
      }
      await new Promise<void>((resolve, reject) => {
        res.end(() => (failed ? reject(failed) : resolve()));
      });
    } finally {
      res.off('close', onClose);
    }
  } finally {
    await fh.close();
  }
}
