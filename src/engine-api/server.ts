// The Docker Engine API over a unix socket. Handlers are thin: parse, call one
// engine function, render. Errors map to statuses in http-errors.ts only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable, type Duplex } from 'node:stream';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { notFound } from '../errdefs.js';
import type { ContainerService } from '../engine/container-service.js';
import { sendError } from './http-errors.js';
import { Router, splitVersion, type RequestContext } from './router.js';
import { checkApiVersion } from './api-version.js';
import { attachContainer, containerRoutes } from './routes-containers.js';
import { execRoutes, startExec } from './routes-exec.js';
import { imageRoutes } from './routes-images.js';
import { volumeRoutes } from './routes-volumes.js';
import { networkRoutes } from './routes-networks.js';
import { commitRoutes } from './routes-commit.js';
import { systemRoutes, pingHeaders } from './routes-system.js';
import { swarmRoutes } from './routes-swarm.js';
import { archiveRoutes } from './routes-archive.js';
import { registryRoutes } from './routes-registry.js';

export interface ApiServer {
  server: Server;
  close(): Promise<void>;
}

export async function serveDockerApi(containers: ContainerService, socketPath: string): Promise<ApiServer> {
  const { engine, execs } = containers;
  const router = new Router();
  systemRoutes(router, engine);
  containerRoutes(router, containers);
  archiveRoutes(router, containers);
  execRoutes(router, execs);
  imageRoutes(router, engine);
  volumeRoutes(router, engine);
  networkRoutes(router, engine);
  commitRoutes(router, engine);
  registryRoutes(router, engine);
  swarmRoutes(router);
  (await import('./routes-build.js')).buildRoutes(router, containers);
  // Streams that can hijack the connection: registered for plain requests too.
  router.add('POST', '/containers/{id}/attach', (ctx) => attachContainer(containers, ctx));
  router.add('POST', '/exec/{id}/start', (ctx) => startExec(execs, ctx));

  const contextFor = (req: IncomingMessage, res: ServerResponse): { ctx: RequestContext; handler: (c: RequestContext) => Promise<void> } => {
    const url = new URL(req.url ?? '/', 'http://docker');
    const { version, path } = splitVersion(url.pathname);
    checkApiVersion(version);
    const m = router.match(req.method ?? 'GET', path);
    if (!m) throw notFound(`page not found: ${req.method} ${url.pathname}`);
    return { ctx: { req, res, params: m.params, query: url.searchParams, apiVersion: version }, handler: m.handler };
  };

  const server = createServer((req, res) => {
    res.setHeader('Api-Version', pingHeaders()['API-Version']!);
    res.setHeader('Server', 'tug');
    let run: Promise<void>;
    try {
      const { ctx, handler } = contextFor(req, res);
      run = handler(ctx);
    } catch (err) {
      run = Promise.reject(err);
    }
    run.catch((err) => {
      if (process.env.TUG_DEBUG) process.stderr.write(`tug api: ${req.method} ${req.url}: ${String((err as Error)?.stack ?? err)}\n`);
      sendError(res, err);
    });
  });

  // attach and exec start ask to upgrade the connection to a raw stream.
  // Upgraded sockets leave the HTTP server's bookkeeping (closeAllConnections skips
  // them) yet still hold server.close() open, so they are tracked and destroyed on close.
  const hijacked = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    hijacked.add(socket);
    socket.once('close', () => hijacked.delete(socket));
    const url = new URL(req.url ?? '/', 'http://docker');
    const { version, path } = splitVersion(url.pathname);
    const m = router.match(req.method ?? 'POST', path);
    const fakeRes = { headersSent: false } as unknown as ServerResponse;
    const ctx: RequestContext = { req, res: fakeRes, params: m?.params ?? {}, query: url.searchParams, apiVersion: version };
    const fail = (err: unknown): void => {
      const msg = JSON.stringify({ message: (err as Error)?.message ?? String(err) });
      const status = (err as { kind?: string })?.kind === 'not-found' ? '404 Not Found' : (err as { kind?: string })?.kind === 'conflict' ? '409 Conflict' : (err as { kind?: string })?.kind === 'invalid' ? '400 Bad Request' : '500 Internal Server Error';
      socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(msg)}\r\n\r\n${msg}`);
    };
    socket.on('error', () => undefined);
    if (!m) return fail(notFound(`page not found: ${url.pathname}`));
    const run = async (): Promise<void> => {
      checkApiVersion(version);
      // Node leaves an upgrade request's body on the socket: take Content-Length bytes first.
      const { body, rest } = await readUpgradeBody(req, socket, head);
      ctx.req = Readable.from(body.length ? [body] : []) as unknown as IncomingMessage;
      if (/\/attach$/.test(path)) await attachContainer(containers, ctx, { socket, head: rest });
      else if (/^\/exec\/[^/]+\/start$/.test(path)) await startExec(execs, ctx, { socket, head: rest });
      else throw notFound(`page not found: ${url.pathname}`);
    };
    run().catch(fail);
  });
  server.keepAliveTimeout = 0;
  server.headersTimeout = 0;
  server.requestTimeout = 0;

  await mkdir(dirname(socketPath), { recursive: true });
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  await chmod(socketPath, 0o660);
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of hijacked) s.destroy();
      }),
  };
}

function readUpgradeBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<{ body: Buffer; rest: Buffer }> {
  const want = Number(req.headers['content-length'] ?? 0);
  if (!want) return Promise.resolve({ body: Buffer.alloc(0), rest: head });
  if (head.length >= want) return Promise.resolve({ body: head.subarray(0, want), rest: head.subarray(want) });
  return new Promise((resolve, reject) => {
    let buf = head;
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= want) {
        socket.off('data', onData);
        socket.pause();
        resolve({ body: buf.subarray(0, want), rest: buf.subarray(want) });
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}
