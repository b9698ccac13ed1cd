// /containers/* of the Docker Engine API: parse, call one engine function, render.
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { invalid, notFound } from '../errdefs.js';
import type { ContainerService } from '../engine/container-service.js';
import { containerFilter } from '../engine/container-filters.js';
import { inspectView, listEntry } from '../engine/container-view.js';
import { boolParam, filtersParam, intParam, readJson, sendJson, sendNoContent } from './body.js';
import { containerSpecFromBody, containerUpdateFromBody } from './create-body.js';
import { hijackPlain, hijackUpgrade, type HijackedConn } from './hijack.js';
import { parseDetachKeys, pipeIo } from './pipe-io.js';
import { frame, STDERR, STDOUT } from './stream-framing.js';
import type { Router, RequestContext } from './router.js';
import { parseTimeParam } from './time-param.js';

export function containerRoutes(r: Router, containers: ContainerService): void {
  const { engine } = containers;
  r.add('GET', '/containers/json', async ({ res, query }) => {
    const all = boolParam(query, 'all');
    const limit = intParam(query, 'limit') ?? -1;
    const filters = filtersParam(query);
    const keep = containerFilter(filters, (ref) => engine.containers.find(ref), (c, anc) => imageMatches(c.Image, c.Config.Image, anc));
    let list = engine.containers.all().filter((c) => (all || c.State.Running || limit > 0 || filters.status || filters.exited) && keep(c));
    list.sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created));
    if (limit > 0) list = list.slice(0, limit);
    const ids = (name: string): string => engine.networks.builtinId(name);
    sendJson(res, 200, list.map((c) => listEntry(c, c.Config.Image, undefined, ids)));
  });

  r.add('POST', '/containers/create', async ({ req, res, query }) => {
    const body = await readJson(req);
    sendJson(res, 201, await containers.create(containerSpecFromBody(body ?? {}, query.get('name') ?? undefined)));
  });

  r.add('GET', '/containers/{id}/json', async ({ res, params, apiVersion }) => {
    const c = engine.containers.get(params.id!);
    sendJson(res, 200, inspectView(c, containers.execIds(c.Id), apiVersion, (name) => engine.networks.builtinId(name)));
  });

  r.add('POST', '/containers/{id}/start', async ({ res, params }) => {
    await containers.start(params.id!);
    sendNoContent(res);
  });

  r.add('POST', '/containers/{id}/stop', async ({ res, params, query }) => {
    await containers.stop(params.id!, { timeout: intParam(query, 't'), signal: query.get('signal') ?? undefined });
    sendNoContent(res);
  });

  r.add('POST', '/containers/{id}/restart', async ({ res, params, query }) => {
    await containers.restart(params.id!, { timeout: intParam(query, 't'), signal: query.get('signal') ?? undefined });
    sendNoContent(res);
  });

  r.add('POST', '/containers/{id}/kill', async ({ res, params, query }) => {
    await containers.kill(params.id!, query.get('signal') || 'SIGKILL');
    sendNoContent(res);
  });

  r.add('POST', '/containers/{id}/pause', async ({ res, params }) => {
    await containers.pause(params.id!);
    sendNoContent(res);
  });

  r.add('POST', '/containers/{id}/unpause', async ({ res, params }) => {
    await containers.unpause(params.id!);
    sendNoContent(res);
  });

  r.add('DELETE', '/containers/{id}', async ({ res, params, query }) => {
    await containers.remove(params.id!, { force: boolParam(query, 'force'), removeVolumes: boolParam(query, 'v') });
    sendNoContent(res);
  });

  // docker rm --link <container>/<alias>: only the link goes (dockerd's RemoveLink).
  r.add('DELETE', '/containers/{id}/{alias}', async ({ res, params, query }) => {
    if (!boolParam(query, 'link')) throw notFound(`No such container: ${params.id!}/${params.alias!}`);
    await containers.removeLink(params.id!, params.alias!);
    sendNoContent(res);
  });

  r.add('POST', '/containers/{id}/wait', async ({ res, params, query }) => {
    const c = engine.containers.get(params.id!);
    const pending = containers.wait(c.Id, query.get('condition') ?? '');
    // Headers go out at once so the client knows the wait is registered (docker run relies on it).
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    res.end(JSON.stringify(await pending) + '\n');
  });

  r.add('POST', '/containers/{id}/rename', async ({ res, params, query }) => {
    await containers.rename(params.id!, query.get('name') ?? '');
    sendNoContent(res);
  });

  r.add('POST', '/containers/{id}/update', async ({ req, res, params }) => {
    sendJson(res, 200, await containers.update(params.id!, containerUpdateFromBody(await readJson(req))));
  });

  r.add('POST', '/containers/{id}/resize', async ({ res, params, query }) => {
    await containers.resize(params.id!, intParam(query, 'w') ?? 80, intParam(query, 'h') ?? 24);
    sendNoContent(res, 200);
  });

  r.add('GET', '/containers/{id}/top', async ({ res, params, query }) => {
    sendJson(res, 200, await containers.top(params.id!, query.get('ps_args') ?? undefined));
  });

  r.add('GET', '/containers/{id}/logs', async ({ req, res, params, query }) => {
    const c = engine.containers.get(params.id!);
    const stdout = boolParam(query, 'stdout');
    const stderr = boolParam(query, 'stderr');
    if (!stdout && !stderr) throw invalid('You must choose at least one stream');
    const follow = boolParam(query, 'follow');
    const timestamps = boolParam(query, 'timestamps');
    const tailRaw = query.get('tail');
    const tail = tailRaw && tailRaw !== 'all' ? Number(tailRaw) : undefined;
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw invalid(`invalid value for "tail": "${tailRaw}"`);
    const since = parseTimeParam(query.get('since'));
    const until = parseTimeParam(query.get('until'));
    const multiplexed = !c.Config.Tty;
    res.writeHead(200, { 'Content-Type': multiplexed ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream' });
    res.flushHeaders();
    const abort = new AbortController();
    req.once('close', () => abort.abort());
    res.once('close', () => abort.abort());
    try {
      for await (const e of containers.logs(c.Id, { follow, since, until, tail, signal: abort.signal })) {
        if ((e.stream === 'stdout' && !stdout) || (e.stream === 'stderr' && !stderr)) continue;
        const data = timestamps ? Buffer.concat([Buffer.from(e.time.toISOString().replace('Z', '000000Z') + ' '), e.data]) : e.data;
        res.write(multiplexed ? frame(e.stream === 'stdout' ? STDOUT : STDERR, data) : data);
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
    res.end();
  });

  r.add('GET', '/containers/{id}/stats', async ({ req, res, params, query }) => {
    const gone = new AbortController();
    const samples = containers.stats(params.id!, { stream: boolParam(query, 'stream', true), oneShot: boolParam(query, 'one-shot') }, gone.signal);
    req.once('close', () => gone.abort());
    res.once('close', () => gone.abort());
    res.writeHead(200, { 'Content-Type': 'application/json' });
    for await (const s of samples) res.write(JSON.stringify(s) + '\n');
    res.end();
  });

  r.add('GET', '/containers/{id}/changes', async ({ res, params }) => {
    sendJson(res, 200, await containers.changes(params.id!));
  });

  r.add('POST', '/containers/prune', async ({ res, query }) => {
    sendJson(res, 200, await containers.prune({ label: filtersParam(query).label }));
  });
}

export function imageMatches(imageId: string, configImage: string, ancestor: string): boolean {
  if (configImage === ancestor || imageId === ancestor || imageId.replace('sha256:', '').startsWith(ancestor.replace('sha256:', ''))) return true;
  const withTag = ancestor.includes(':') ? ancestor : `${ancestor}:latest`;
  return configImage === withTag;
}

/**
 * Clients that read the 101 headers through a buffered reader and then take the
 * raw socket (docker-py, over python's http.client) lose whatever arrived in
 * the same read as the headers. dockerd's log replay comes late enough; ours
 * is instant, so let the headers go out alone first.
 */
async function headersAlone(socket: Duplex): Promise<void> {
  await new Promise<void>((r) => socket.write('', () => r()));
  await new Promise((r) => setTimeout(r, 50));
}

/** POST /containers/{id}/attach: over an upgraded connection, or a plain streamed response. */
export async function attachContainer(containers: ContainerService, ctx: RequestContext, upgrade?: { socket: Duplex; head: Buffer }): Promise<void> {
  const { params, query } = ctx;
  const c = containers.engine.containers.get(params.id!);
  const wantStdin = boolParam(query, 'stdin');
  const wantStdout = boolParam(query, 'stdout');
  const wantStderr = boolParam(query, 'stderr');
  const multiplexed = !c.Config.Tty;
  const conn: HijackedConn = upgrade ? hijackUpgrade(upgrade.socket, upgrade.head, multiplexed) : hijackPlain(ctx.req as IncomingMessage, ctx.res, multiplexed);
  // Hold the client's stdin until the container's stdin is connected: `echo hi | docker run -i`
  // sends its input and EOF before the container starts, and a flowing socket would drop both.
  conn.input?.pause();
  const detachKeys = parseDetachKeys(query.get('detachKeys'));
  if (boolParam(query, 'logs')) {
    if (upgrade) await headersAlone(upgrade.socket);
    for await (const e of containers.logs(c.Id, { follow: false })) {
      if ((e.stream === 'stdout' && !wantStdout) || (e.stream === 'stderr' && !wantStderr)) continue;
      conn.write(multiplexed ? frame(e.stream === 'stdout' ? STDOUT : STDERR, e.data) : e.data);
    }
  }
  if (!boolParam(query, 'stream')) {
    conn.end();
    return;
  }
  const opts = { multiplexed, stdin: wantStdin && c.Config.OpenStdin, stdout: wantStdout, stderr: wantStderr, detachKeys };
  // Running: connected at once; about to start (docker run attaches first): parked until runtime create.
  const takeBack = await containers.attach(c.Id, { stdin: opts.stdin }, {
    connect: (streams) => {
      pipeIo(streams, conn, opts);
      conn.input?.resume();
    },
    abort: () => conn.end(),
  });
  conn.onClose(takeBack);
}
