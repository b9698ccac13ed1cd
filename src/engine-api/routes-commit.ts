// POST /commit of the Docker Engine API (docker commit): parses the query and
// body and calls engine/commit-container.
import { invalid } from '../errdefs.js';
import { commitContainer } from '../engine/commit-container.js';
import type { Engine } from '../engine/engine.js';
import { readJson, sendJson } from './body.js';
import type { Router } from './router.js';

export function commitRoutes(r: Router, engine: Engine): void {
  r.add('POST', '/commit', async ({ req, res, query }) => {
    const ref = query.get('container');
    if (!ref) throw invalid('container is required');
    const repo = query.get('repo') ?? '';
    const tag = query.get('tag') ?? '';
    if (!repo && tag) throw invalid('tag given without a repository');
    const body = ((await readJson(req)) ?? {}) as Record<string, unknown>;
    const out = await commitContainer(engine, ref, {
      ref: repo ? `${repo}${tag ? `:${tag}` : ''}` : undefined,
      changes: query.getAll('changes'),
      comment: query.get('comment') ?? undefined,
      author: query.get('author') ?? undefined,
      config: body,
    });
    engine.events.emit('container', 'commit', out.containerId, { name: out.name, ...(repo ? { comment: query.get('comment') ?? '' } : {}) });
    sendJson(res, 201, { Id: out.id });
  });
}
