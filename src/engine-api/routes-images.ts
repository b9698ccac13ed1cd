// /images/* of the Docker Engine API.
import { invalid, messageOf } from '../errdefs.js';
import type { ImageRecord } from '../image/image-store.js';
import type { Engine } from '../engine/engine.js';
import { matchLabel } from '../engine/container-filters.js';
import { boolParam, filtersParam, sendJson } from './body.js';
import type { Router } from './router.js';
import { createFromImage } from './routes-registry.js';
import { containerConfigView, goTime } from './image-config-view.js';

export function imageSummary(img: ImageRecord): Record<string, unknown> {
  return {
    Id: img.id,
    ParentId: img.parent ?? '',
    RepoTags: img.repoTags,
    RepoDigests: img.repoDigests,
    Created: Math.floor(Date.parse(img.created) / 1000),
    Size: img.size,
    SharedSize: -1,
    VirtualSize: img.size,
    Labels: img.config.config?.Labels ?? {},
    Containers: -1,
  };
}

export function imageInspect(img: ImageRecord): Record<string, unknown> {
  const cfg = img.config;
  return {
    Id: img.id,
    RepoTags: img.repoTags,
    RepoDigests: img.repoDigests,
    Parent: img.parent ?? '',
    Comment: cfg.history?.[cfg.history.length - 1]?.comment ?? '',
    Created: goTime(img.created),
    // Written by commit (commit-image.ts), as dockerd's image config carries them.
    Container: typeof cfg.container === 'string' ? cfg.container : '',
    ContainerConfig: containerConfigView(cfg.container_config as Record<string, unknown> | undefined),
    DockerVersion: '',
    Author: cfg.author ?? '',
    Config: containerConfigView(cfg.config),
    Architecture: cfg.architecture,
    Os: cfg.os,
    Size: img.size,
    VirtualSize: img.size,
    GraphDriver: { Name: 'overlay2', Data: null },
    RootFS: { Type: 'layers', Layers: cfg.rootfs?.diff_ids ?? [] },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}

function tagMatches(tag: string, pattern: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '.') + '$');
  return re.test(tag) || re.test(tag.replace(/:[^:/]+$/, ''));
}

function referenceFilter(img: ImageRecord, pattern: string): boolean {
  return img.repoTags.some((t) => tagMatches(t, pattern));
}

export function imageRoutes(r: Router, engine: Engine): void {
  r.add('GET', '/images/json', async ({ res, query }) => {
    const f = filtersParam(query);
    for (const k of Object.keys(f)) if (!['dangling', 'label', 'reference', 'before', 'since', 'until'].includes(k)) throw invalid(`invalid filter '${k}'`);
    const all = await engine.images.list();
    const list = all.filter((img) =>
      (!f.dangling?.length || f.dangling.some((d) => (d === 'true' || d === '1') === (img.repoTags.length === 0))) &&
      (f.label ?? []).every((l) => matchLabel(img.config.config?.Labels ?? {}, l)) &&
      (!f.reference?.length || f.reference.some((p) => referenceFilter(img, p))),
    );
    list.sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
    const summaries = list.map(imageSummary);
    // As dockerd: a reference filter also narrows RepoTags, so `docker images repo:1.0`
    // shows one row and not one per tag of the same image.
    if (f.reference?.length) {
      for (const s of summaries) s.RepoTags = (s.RepoTags as string[]).filter((t) => f.reference!.some((p) => tagMatches(t, p)));
    }
    sendJson(res, 200, summaries);
  });

  r.add('POST', '/images/create', async ({ req, res, query }) => {
    const fromSrc = query.get('fromSrc');
    const fromImage = query.get('fromImage');
    if (fromSrc === '-') {
      const repo = query.get('repo') ?? '';
      const tag = query.get('tag') ?? '';
      const ref = repo ? (tag ? `${repo}:${tag}` : repo) : undefined;
      const img = await engine.images.importTar(req, { ref, changes: query.getAll('changes'), message: query.get('message') ?? undefined, platform: query.get('platform') ?? undefined });
      engine.events.emit('image', 'import', img.id, ref ? { name: ref } : {});
      sendJson(res, 200, { status: img.id });
      return;
    }
    if (fromSrc) throw invalid('importing from a URL is not supported; pipe the tarball instead (tug import FILE or -)');
    if (!fromImage) throw invalid('fromImage or fromSrc is required');
    await createFromImage(engine, { req, res, query, params: {}, apiVersion: '' });
  });

  r.add('POST', '/images/load', async ({ req, res, query }) => {
    const quiet = boolParam(query, 'quiet');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    let lines: string[];
    try {
      lines = await engine.images.load(req);
    } catch (err) {
      // dockerd answers 200 and puts a failed load in the stream (docker-py raises ImageLoadError from it).
      const message = messageOf(err);
      res.end(JSON.stringify({ errorDetail: { message }, error: message }) + '\n');
      return;
    }
    for (const l of lines) {
      const id = l.replace(/^Loaded image(?: ID)?: /, '');
      engine.events.emit('image', 'load', id);
      res.write(JSON.stringify(quiet ? { stream: `${l}\n` } : { stream: `${l}\n` }) + '\n');
    }
    res.end();
  });

  r.add('GET', '/images/get', async ({ res, query }) => {
    const names = query.getAll('names');
    if (!names.length) throw invalid('no image names given');
    for (const n of names) await engine.images.get(n); // 404 before any bytes are sent
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await engine.images.save(names, res);
    res.end();
  });

  r.add('POST', '/images/prune', async ({ res, query }) => {
    const f = filtersParam(query);
    const danglingOnly = !(f.dangling ?? []).some((d) => d === 'false' || d === '0');
    const deleted: Array<{ Untagged?: string; Deleted?: string }> = [];
    let reclaimed = 0;
    for (const img of await engine.images.list()) {
      if (danglingOnly && img.repoTags.length) continue;
      if (engine.containers.all().some((c) => c.Image === img.id)) continue;
      try {
        const out = await engine.images.remove(img.id, { force: true });
        deleted.push(...out);
        reclaimed += img.size;
      } catch {
        // An image that another one still needs stays; prune is best effort.
      }
    }
    sendJson(res, 200, { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
  });

  r.add('GET', '/images/{name*}/json', async ({ res, params }) => {
    sendJson(res, 200, imageInspect(await engine.images.get(params.name!)));
  });

  r.add('GET', '/images/{name*}/history', async ({ res, params }) => {
    sendJson(res, 200, await engine.images.history(params.name!));
  });

  r.add('GET', '/images/{name*}/get', async ({ res, params }) => {
    await engine.images.get(params.name!);
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await engine.images.save([params.name!], res);
    res.end();
  });

  r.add('POST', '/images/{name*}/tag', async ({ res, params, query }) => {
    const repo = query.get('repo');
    if (!repo) throw invalid('repository name must have at least one component');
    const target = `${repo}:${query.get('tag') || 'latest'}`;
    await engine.images.tag(params.name!, target);
    const img = await engine.images.get(target);
    engine.events.emit('image', 'tag', img.id, { name: target });
    res.writeHead(201).end();
  });

  r.add('DELETE', '/images/{name*}', async ({ res, params, query }) => {
    const out = await engine.images.remove(params.name!, { force: boolParam(query, 'force'), noPrune: boolParam(query, 'noprune') });
    for (const o of out) {
      if (o.Untagged) engine.events.emit('image', 'untag', o.Untagged);
      if (o.Deleted) engine.events.emit('image', 'delete', o.Deleted);
    }
    sendJson(res, 200, out);
  });
}
