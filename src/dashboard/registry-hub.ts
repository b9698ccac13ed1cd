// The dashboard's registry ("hub") view: what a registry holds, read over the
// OCI distribution API as any client would (GET /v2/_catalog, /v2/NAME/tags/list,
// then each tag's manifest for its digest and size). tug's registry is its own
// process (`tug registry serve`), not part of the daemon, so the daemon is told
// which one to show (--ui-registry HOST:PORT), and reads it with the daemon
// owner's credentials from `tug login` (the same config.json the CLI uses) and
// the engine's registry client, which answers Basic and token-auth challenges.
// Only the daemon's owner sees this view, as only the owner may push and pull.
import { RegistryClient, type RegistryAuth } from '../image/registry-client/client.js';
import { readBody } from '../image/registry-client/http-request.js';
import { MANIFEST_ACCEPT } from '../image/registry-client/manifests.js';
import { authKeyOf } from '../image/registry-client/hosts.js';
import { loadAuth } from '../image/registry-client/credential-store.js';
import { createHash } from 'node:crypto';
import { messageOf } from '../errdefs.js';
import type { HubListing, HubRepository, HubTag } from './hub-types.js';

export type { HubListing } from './hub-types.js';

/** Bounds on one listing, so a huge registry gives a page quickly rather than never. */
const MAX_REPOSITORIES = 200;
const MAX_TAGS_PER_REPOSITORY = 100;
const PARALLEL = 6;

async function getJson(client: RegistryClient, path: string, scopes: Record<string, string>): Promise<{ body: any; link?: string }> {
  const res = await client.request('GET', path, { scopes, headers: { Accept: 'application/json' } });
  const body = JSON.parse((await readBody(res, 4 * 1024 * 1024)).toString('utf8'));
  return { body, link: typeof res.headers.link === 'string' ? res.headers.link : undefined };
}

/** The next page of a paginated list (RFC 5988 Link: <…>; rel="next"). */
const nextPage = (link: string | undefined): string | undefined => link?.match(/<([^>]+)>\s*;\s*rel="?next"?/)?.[1];

async function inParallel<T, R>(items: T[], fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

async function describeTag(client: RegistryClient, repo: string, tag: string): Promise<HubTag> {
  try {
    const res = await client.request('GET', `/v2/${repo}/manifests/${encodeURIComponent(tag)}`, { scopes: { [repo]: 'pull' }, headers: { Accept: MANIFEST_ACCEPT } });
    const bytes = await readBody(res, 4 * 1024 * 1024);
    const m = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; config?: { size?: number }; layers?: { size?: number }[]; manifests?: { platform?: { os?: string; architecture?: string; variant?: string } }[] };
    const digest = String(res.headers['docker-content-digest'] ?? `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    const mediaType = m.mediaType ?? String(res.headers['content-type'] ?? '').split(';')[0];
    const pushed = typeof res.headers['last-modified'] === 'string' ? new Date(res.headers['last-modified']).toISOString() : undefined;
    if (Array.isArray(m.manifests)) {
      const platforms = m.manifests.map((d) => [d.platform?.os, d.platform?.architecture, d.platform?.variant].filter(Boolean).join('/')).filter(Boolean);
      return { tag, digest, mediaType, platforms, pushed };
    }
    const size = bytes.length + (m.config?.size ?? 0) + (m.layers ?? []).reduce((n, l) => n + (l.size ?? 0), 0);
    return { tag, digest, mediaType, size, pushed };
  } catch (err) {
    return { tag, error: messageOf(err) };
  }
}

/** Lists the registry at domain (HOST:PORT) with the daemon owner's stored credentials for it, if any. */
export async function readHub(domain: string): Promise<HubListing> {
  const stored = await loadAuth(authKeyOf(domain));
  const auth: RegistryAuth | undefined = stored ? { username: stored.username, password: stored.password, serveraddress: domain } : undefined;
  const client = await RegistryClient.connect(domain, auth);
  const names: string[] = [];
  let truncated = false;
  for (let path: string | undefined = `/v2/_catalog?n=${MAX_REPOSITORIES}`; path; ) {
    const { body, link } = await getJson(client, path, {});
    names.push(...((body.repositories ?? []) as string[]));
    path = nextPage(link);
    if (names.length >= MAX_REPOSITORIES) {
      truncated ||= path !== undefined || names.length > MAX_REPOSITORIES;
      break;
    }
  }
  const repositories = await inParallel(names.slice(0, MAX_REPOSITORIES), async (name): Promise<HubRepository> => {
    try {
      const { body, link } = await getJson(client, `/v2/${name}/tags/list?n=${MAX_TAGS_PER_REPOSITORY}`, { [name]: 'pull' });
      const tags = ((body.tags ?? []) as string[]).slice(0, MAX_TAGS_PER_REPOSITORY);
      if (nextPage(link)) truncated = true;
      return { name, tags: await inParallel(tags, (t) => describeTag(client, name, t)) };
    } catch (err) {
      return { name, tags: [], error: messageOf(err) };
    }
  });
  return { registry: domain, repositories, truncated };
}
