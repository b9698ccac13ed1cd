// conmon's control fifo (<bundle>/ctl): one line per request, '1 HEIGHT WIDTH'
// resizes the container's pty. conmon keeps both ends open itself, so opening
// for writing never blocks while the monitor lives; with the monitor gone the
// non-blocking open fails with ENXIO and we say so.
import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { invalid, unavailable } from '../../errdefs.js';

export async function resizeViaCtl(bundleDir: string, cols: number, rows: number): Promise<void> {
  if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols <= 0 || rows <= 0 || cols > 65535 || rows > 65535) {
    throw invalid(`invalid terminal size ${cols}x${rows}: width and height must be integers 1..65535`);
  }
  let fh;
  try {
    fh = await open(join(bundleDir, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw unavailable(`cannot resize: container monitor is not running (${(err as Error).message})`);
  }
  try {
    await fh.write(`1 ${rows} ${cols}\n`);
  } finally {
    await fh.close();
  }
}
