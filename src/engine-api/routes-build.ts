// POST /build (Docker's classic builder endpoint: a tar context in, JSON
// progress lines out), POST /build/prune, and tug's base-image bootstrap.
// Thin: parse the query, call the builder, render its messages.
import type { ServerResponse } from 'node:http';
import { invalid, messageOf } from '../errdefs.js';
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
  res.write(JSON.stringify(msg) + '\n');
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
    const ctx = await unpackContext(engine.root, req);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    try {
      const result = await buildImage(
        containers,
        {
          contextDir: ctx.dir,
          dockerfile: query.get('dockerfile') || 'Dockerfile',
          tags: query.getAll('t').filter(Boolean),
          buildArgs,
          target: query.get('target') || undefined,
          noCache: boolParam(query, 'nocache'),
          labels,
          secrets,
          platform: query.get('platform') || undefined,
          networkMode: query.get('networkmode') || undefined,
        },
        {
          stream: (text) => {
            if (!quiet) line(res, { stream: text });
          },
          aux: (id) => line(res, { aux: { ID: id } }),
        },
      );
      if (quiet) line(res, { stream: `${result.image.id}\n` });
    } catch (err) {
      const message = messageOf(err);
      line(res, { errorDetail: { message }, error: message });
    } finally {
      await ctx.remove();
      res.end();
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
