// Attach and exec-start "hijack" the HTTP connection: after a 101 (or a 200 for
// clients that do not ask to upgrade) the socket carries raw container I/O in
// both directions. This wraps both cases behind one small interface.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export interface HijackedConn {
  write(data: Buffer): void;
  /** Ends our side; the client sees EOF. */
  end(): void;
  /** Client-to-container bytes (stdin); null when the client cannot send (plain response). */
  input: NodeJS.ReadableStream | null;
  onClose(cb: () => void): void;
}

export function hijackUpgrade(socket: Duplex, head: Buffer, multiplexed: boolean): HijackedConn {
  const type = multiplexed ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream';
  socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${type}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
  if (head.length) socket.unshift(head);
  socket.resume(); // the body reader paused it; stdin flows from here
  (socket as unknown as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  let closed = false;
  return {
    write: (d) => {
      if (!closed && !socket.destroyed) socket.write(d);
    },
    end: () => {
      if (closed) return;
      closed = true;
      socket.end();
    },
    input: socket,
    onClose: (cb) => {
      socket.once('close', cb);
    },
  };
}

export function hijackPlain(req: IncomingMessage, res: ServerResponse, multiplexed: boolean): HijackedConn {
  const type = multiplexed ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream';
  res.writeHead(200, { 'Content-Type': type });
  res.flushHeaders();
  let closed = false;
  return {
    write: (d) => {
      if (!closed) res.write(d);
    },
    end: () => {
      if (closed) return;
      closed = true;
      res.end();
    },
    input: req,
    onClose: (cb) => {
      res.once('close', cb);
    },
  };
}
