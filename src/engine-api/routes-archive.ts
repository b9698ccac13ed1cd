// docker cp and docker export: HEAD/GET/PUT /containers/{id}/archive and GET
// /containers/{id}/export. Thin: the ContainerService picks the container's
// root and does the work inside it (container-archive.ts); these render.
import { pipeline } from 'node:stream/promises';
import type { ContainerService } from '../engine/container-service.js';
import type { Router } from './router.js';

const truthy = (v: string | null): boolean => v === 'true' || v === '1';

export function archiveRoutes(r: Router, containers: ContainerService): void {
  r.add('GET', '/containers/{id}/export', async ({ res, params }) => {
    await containers.exportFs(params.id!, async (tar) => {
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      await pipeline(tar, res);
    });
  });

  r.add('GET', '/containers/{id}/archive', async ({ req, res, params, query }) => {
    await containers.readArchive(params.id!, query.get('path') ?? '', async (stat, open) => {
      res.setHeader('X-Docker-Container-Path-Stat', Buffer.from(JSON.stringify(stat)).toString('base64'));
      if (req.method === 'HEAD') {
        res.writeHead(200).end();
        return;
      }
      const tar = await open();
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      await pipeline(tar, res);
    });
  });

  r.add('PUT', '/containers/{id}/archive', async ({ req, res, params, query }) => {
    await containers.putArchive(params.id!, query.get('path') ?? '', req, {
      copyUIDGID: truthy(query.get('copyUIDGID')),
      noOverwriteDirNonDir: truthy(query.get('noOverwriteDirNonDir')),
    });
    res.writeHead(200).end();
  });
}
