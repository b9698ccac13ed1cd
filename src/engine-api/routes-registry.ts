// Registry endpoints of the Docker Engine API: POST /images/create?fromImage=
// (pull), POST /images/{name}/push, POST /auth (login check). Progress is
// streamed as newline-delimited JSON; an error before the first line is an
// HTTP error (as dockerd does), after it an errorDetail message in the stream.
import type { ServerResponse } from 'node:http';
import { invalid, messageOf } from '../errdefs.js';
import { DEFAULT_DOMAIN, familiarName, parseNamed } from '../oci/reference.js';
import type { ProgressMessage, RegistryAuth } from '../image/registry-client/index.js';
import type { Engine } from '../engine/engine.js';
import { loginToRegistry, pullImage, pushImage } from '../engine/pull-push.js';
import { readJson, sendJson } from './body.js';
import type { RequestContext, Router } from './router.js';

export function registryRoutes(r: Router, engine: Engine): void {
  r.add('POST', '/images/{name*}/push', async ({ req, res, params, query }) => {
    const tag = query.get('tag');
    const ref = tag ? `${params.name!}:${tag}` : params.name!;
    const auth = registryAuthHeader(req.headers['x-registry-auth']);
    await streamProgress(res, (sink) => pushImage(engine, ref, { auth, onProgress: sink }));
  });

  r.add('POST', '/auth', async ({ req, res }) => {
    const body = (await readJson<RegistryAuth & { email?: string }>(req)) ?? {};
    sendJson(res, 200, await loginToRegistry(body));
  });
}

/** POST /images/create?fromImage=NAME&tag=TAG[&platform=]: pulls from the image's registry. */
export async function createFromImage(engine: Engine, { req, res, query }: RequestContext): Promise<void> {
  const fromImage = query.get('fromImage') ?? '';
  const tag = query.get('tag') ?? '';
  const named = parseNamed(fromImage);
  if (tag) {
    if (/^sha256:[a-f0-9]{64}$/.test(tag)) {
      named.digest = tag;
      delete named.tag;
    } else {
      named.tag = tag;
      delete named.digest;
    }
  }
  const ref = familiarName(named.tag === undefined && named.digest === undefined ? { ...named, tag: 'latest' } : named);
  if (named.domain === DEFAULT_DOMAIN) {
    // Docker Hub is not reached for images already here (the built-in busybox among them).
    const local = await engine.images.get(ref).catch(() => undefined);
    if (local) {
      await streamProgress(res, async (sink) => {
        sink({ status: `Pulling from ${fromImage}`, id: named.tag ?? named.digest ?? 'latest' });
        sink({ status: `Digest: ${local.manifestDigest}` });
        sink({ status: `Status: Image is up to date for ${ref}` });
      });
      return;
    }
  }
  const auth = registryAuthHeader(req.headers['x-registry-auth']);
  await streamProgress(res, (sink) => pullImage(engine, ref, { auth, platform: query.get('platform') || undefined, onProgress: sink }));
}

/** X-Registry-Auth: base64(url) JSON of {username, password, serveraddress} or {identitytoken}; empty or {} means anonymous. */
export function registryAuthHeader(h: string | string[] | undefined): RegistryAuth | undefined {
  const raw = Array.isArray(h) ? h[0] : h;
  if (!raw || !raw.trim()) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw.trim(), 'base64').toString('utf8'));
  } catch {
    throw invalid('X-Registry-Auth header: not base64-encoded JSON');
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const a = parsed as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof a[k] === 'string' && a[k] !== '' ? (a[k] as string) : undefined);
  const auth: RegistryAuth = {};
  for (const k of ['username', 'password', 'identitytoken', 'registrytoken', 'serveraddress'] as const) {
    const v = str(k);
    if (v !== undefined) auth[k] = v;
  }
  // Some clients send only the combined "auth" field (base64 user:pass), as config.json stores it.
  const combined = str('auth');
  if (combined && auth.username === undefined) {
    const text = Buffer.from(combined, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon > 0) {
      auth.username = text.slice(0, colon);
      auth.password = text.slice(colon + 1);
    }
  }
  return Object.keys(auth).length ? auth : undefined;
}

/** Runs `work` with a sink that writes JSON lines, starting the 200 response at the first message. */
async function streamProgress(res: ServerResponse, work: (sink: (m: ProgressMessage) => void) => Promise<unknown>): Promise<void> {
  let started = false;
  const sink = (m: ProgressMessage): void => {
    if (!started) {
      started = true;
      res.writeHead(200, { 'Content-Type': 'application/json' });
    }
    if (!res.destroyed) res.write(JSON.stringify(m) + '\n');
  };
  try {
    await work(sink);
  } catch (err) {
    if (!started) throw err;
    const message = messageOf(err);
    res.end(JSON.stringify({ errorDetail: { message }, error: message }) + '\n');
    return;
  }
  if (!started) res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end();
}
