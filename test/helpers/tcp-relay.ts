// A loopback TCP relay in front of a server, for tests that count a client's
// connections or cut them (the server stays up, the client sees its
// connections break). Every byte passes through unchanged.
import { createServer, connect, type Socket } from 'node:net';

export interface TcpRelay {
  /** The relay's port on 127.0.0.1. */
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Breaks every open connection (both sides); new ones are still relayed. */
  cut(): void;
  close(): Promise<void>;
}

export async function startTcpRelay(target: URL): Promise<TcpRelay> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((down) => {
    accepted++;
    const up = connect(Number(target.port), target.hostname);
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    down.pipe(up).pipe(down);
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const cut = (): void => {
    for (const s of [...sockets]) s.destroy();
  };
  return {
    port: (server.address() as { port: number }).port,
    get accepted() {
      return accepted;
    },
    cut,
    async close() {
      cut();
      await new Promise((r) => server.close(r));
    },
  };
}
