// POST /build (Docker's classic builder endpoint: a tar context in, JSON
// progress lines out), POST /build/prune, and tug's base-image bootstrap.
// Thin: parse the query, call the builder, render its messages.
import type { ServerResponse } from 'node:http';
import { invalid, messageOf, TugError } from '../errdefs.js';
import type { ContainerService } from '../engine/container-service.js';
import { buildImage, buildCacheOf } from '../builder/builder.js';
import { unpackContext } from '../builder/build-context.js';
import { pruneBuildCache } from '../builder/prune.js';
import { boolParam, sendJson } from './body.js';
import type { Router } from './router.js';

function jsonParam<T>(q: URLSearchParams, name: string): T | undefined {
  const raw = q.get(name);
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw invalid(`invalid JSON in the ${name} parameter: ${raw}`);
  }
}

function stringMap(v: unknown, name: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`${name} must be a JSON object of strings`);
  const out: Record<string, string> = {};
  // Docker sends build args with a null value for "--build-arg NAME" with no value set in the environment.
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) if (val !== null && val !== undefined) out[k] = String(val);
  return out;
}

function line(res: ServerResponse, msg: unknown): void {
  if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
  res.write(JSON.stringify(msg) + '\n');
}

/** Docker's stream error line; a failed RUN carries its exit code as errorDetail.code. */
function errorLine(err: unknown): Record<string, unknown> {
  const message = messageOf(err);
  const code = err instanceof TugError ? err.detail?.exitCode : undefined;
  return { errorDetail: typeof code === 'number' ? { code, message } : { message }, error: message };
}

/** A list parameter sent as repeated keys (docker-py, the CLI) or as one JSON array. */
function listParam(q: URLSearchParams, name: string): string[] {
  const out: string[] = [];
  for (const v of q.getAll(name)) {
    if (v.startsWith('[')) {
      const arr = jsonParam<unknown>(new URLSearchParams({ [name]: v }), name);
      if (!Array.isArray(arr) || arr.some((x) => typeof x !== 'string')) throw invalid(`${name} must be a JSON array of strings`);
      out.push(...(arr as string[]));
    } else if (v) out.push(v);
  }
  return out;
}

export function buildRoutes(r: Router, containers: ContainerService): void {
  const { engine } = containers;
  r.add('POST', '/build', async ({ req, res, query }) => {
    const remote = query.get('remote');
    if (remote) throw invalid('building from a remote context (remote=) is not supported; send the context as a tar body');
    const buildArgs = stringMap(jsonParam(query, 'buildargs'), 'buildargs');
    const labels = stringMap(jsonParam(query, 'labels'), 'labels');
    const secretsB64 = stringMap(jsonParam(query, 'secrets'), 'secrets');
    const secrets: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(secretsB64)) secrets[k] = Buffer.from(v, 'base64');
    const quiet = boolParam(query, 'q');
    const extraHosts = listParam(query, 'extrahosts');
    for (const h of extraHosts) if (!/^[^:\s]+:\S+$/.test(h)) throw invalid(`invalid IP address in add-host: ${JSON.stringify(h)}: want host:ip`);
    const cacheFrom = jsonParam<unknown>(query, 'cachefrom');
    if (cacheFrom !== undefined && (!Array.isArray(cacheFrom) || cacheFrom.some((x) => typeof x !== 'string'))) throw invalid('cachefrom must be a JSON array of image names');
    const ctx = await unpackContext(engine.root, req);
    // The 200 goes out with the first progress line: a Dockerfile that cannot be read or parsed is
    // an HTTP error, as dockerd answers it (docker-py raises APIError; its regression test 443).
    // With -q the progress is held back; a failed build shows it before the error, as dockerd does.
    const held: string[] = [];
    try {
      const result = await buildImage(
        containers,
        {
          contextDir: ctx.dir,
          contextDigests: ctx.digests,
          dockerfile: query.get('dockerfile') || 'Dockerfile',
          tags: query.getAll('t').filter(Boolean),
          buildArgs,
          target: query.get('target') || undefined,
          noCache: boolParam(query, 'nocache'),
          labels,
          secrets,
          platform: query.get('platform') || undefined,
          networkMode: query.get('networkmode') || undefined,
          extraHosts,
          cacheFrom: cacheFrom as string[] | undefined,
        },
        {
          stream: (text) => {
            if (quiet) held.push(text);
            else line(res, { stream: text });
          },
          aux: (id) => line(res, { aux: { ID: id } }),
        },
      );
      if (quiet) line(res, { stream: `${result.image.id}\n` });
    } catch (err) {
      for (const text of held) line(res, { stream: text });
      if (!res.headersSent) throw err;
      line(res, errorLine(err));
    } finally {
      // The client has its answer before the context dir goes (a few hundred files to unlink).
      if (res.headersSent) res.end();
      await ctx.remove();
    }
  });

  r.add('POST', '/build/prune', async ({ res }) => {
    sendJson(res, 200, await pruneBuildCache(engine, await buildCacheOf(containers)));
  });

  r.add('POST', '/build/cancel', async ({ res }) => {
    res.writeHead(200).end();
  });

  r.add('POST', '/tug/images/bootstrap', async ({ res, query }) => {
    const ref = query.get('ref') ?? '';
    const { bootstrapImage } = await import('../image/bootstrap/bootstrap.js');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    try {
      const img = await bootstrapImage(engine.images, ref, { mirror: query.get('mirror') || undefined, onProgress: (text: string) => line(res, { stream: text }), onImported: (i, name) => engine.events.emit('image', 'import', i.id, { name }) });
      line(res, { aux: { ID: img.id } });
      line(res, { stream: `Bootstrapped ${ref} as ${img.id}\n` });
    } catch (err) {
      const message = messageOf(err);
      line(res, { errorDetail: { message }, error: message });
    } finally {
      res.end();
    }
  });
}
