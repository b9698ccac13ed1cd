// `runc start` without spawning runc. After `runc create`, runc's init waits
// in the container, blocked opening <runc root>/<id>/exec.fifo for writing;
// `runc start` only opens the fifo for reading, reads the byte init writes,
// and removes the fifo (which is how runc tells "created" from "running"
// afterwards). Doing that here saves a runc process (Go start-up, state
// load) per container start. Anything unexpected (no fifo, init gone) falls
// back to the real `runc start`, which then reports the error in its words.
//
// Init's byte, not init being alive, is what says it was let go: init writes
// into the pipe buffer and execs at once, so a short-lived process (`true`)
// can have run and exited before the event loop reads that byte. The check
// for a dead init therefore drains the fifo before it gives up; giving up with
// the byte unread made `runc start` answer "cannot start a container that has
// stopped" for about 1 in 100 concurrent `docker run --rm busybox true`.
import { constants, open, readSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { Socket } from 'node:net';
import { promisify } from 'node:util';
import { processAlive } from '../util/process-alive.js';

// The callback form gives a bare descriptor, which the socket below then owns (and closes).
const openFd = promisify(open);

/**
 * Releases the created container's init through its exec fifo. Resolves true
 * once init has been let go (and the fifo removed); false when the caller
 * should use `runc start` instead (no fifo, init gone, nothing written).
 */
export async function startViaExecFifo(fifoPath: string, initPid: number): Promise<boolean> {
  let fd: number;
  try {
    // Non-blocking: a blocking open would hold a libuv thread if init were gone.
    fd = await openFd(fifoPath, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  // Reading through a socket handle: epoll-driven, no thread parked on the fifo.
  const sock = new Socket({ fd, readable: true, writable: false });
  const got = await new Promise<number>((resolve) => {
    let n = 0;
    const watchdog = setInterval(() => {
      if (processAlive(initPid)) return;
      n += readBuffered(fd);
      finish();
    }, 100);
    const finish = (): void => {
      clearInterval(watchdog);
      sock.destroy();
      resolve(n);
    };
    sock.on('data', (b: Buffer) => (n += b.length));
    sock.on('end', finish);
    sock.on('error', finish);
  });
  if (got === 0) return false;
  await unlink(fifoPath).catch(() => undefined);
  return true;
}

/** Bytes waiting in the non-blocking fifo now; 0 when empty (EAGAIN) or at EOF. */
function readBuffered(fd: number): number {
  try {
    return readSync(fd, Buffer.alloc(16));
  } catch {
    return 0;
  }
}
