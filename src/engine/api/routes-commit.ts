// POST /commit of the Docker Engine API (docker commit): the container's
// overlay upper dir becomes a new layer on top of its image, and the image
// config is the container's own (its Cmd, Env, ...) with --change applied.
import { join } from 'node:path';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { invalid } from '../../errdefs.js';
import type { OciContainerConfig } from '../../oci/image-spec.js';
import type { Engine } from '../engine.js';
import { readJson, sendJson } from './body.js';
import type { Router } from './router.js';

// The container config fields an image config carries (the rest are run-time settings).
const imageConfigFields = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'Healthcheck', 'OnBuild', 'Shell'] as const;

export function commitRoutes(r: Router, engine: Engine): void {
  r.add('POST', '/commit', async ({ req, res, query }) => {
    const ref = query.get('container');
    if (!ref) throw invalid('container is required');
    const c = engine.containers.get(ref);
    const repo = query.get('repo') ?? '';
    const tag = query.get('tag') ?? '';
    if (!repo && tag) throw invalid('tag given without a repository');
    const body = ((await readJson(req)) ?? {}) as Record<string, unknown>;
    const config: OciContainerConfig = {};
    const from = c.Config as unknown as Record<string, unknown>;
    for (const k of imageConfigFields) {
      const v = body[k] ?? from[k];
      if (v !== undefined && v !== null && v !== '') (config as Record<string, unknown>)[k] = v;
    }
    const upper = join(engine.root, 'containers-fs', c.Id, 'upper');
    // A never-started container has no upper dir: its layer is empty.
    const hasUpper = await access(upper).then(() => true, () => false);
    const base = await engine.images.get(c.Image);
    const empty = hasUpper ? null : await mkdtemp(join(engine.root, 'commit-empty-'));
    const img = await engine.images
      .commit(base, empty ?? upper, {
        ref: repo ? `${repo}${tag ? `:${tag}` : ''}` : undefined,
        changes: query.getAll('changes'),
        comment: query.get('comment') ?? undefined,
        author: query.get('author') ?? undefined,
        config,
      })
      .finally(() => (empty ? rm(empty, { recursive: true, force: true }) : undefined));
    engine.events.emit('container', 'commit', c.Id, { name: c.Name.replace(/^\//, ''), ...(repo ? { comment: query.get('comment') ?? '' } : {}) });
    sendJson(res, 201, { Id: img.id });
  });
}
