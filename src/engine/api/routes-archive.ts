// docker cp and docker export: HEAD/GET/PUT /containers/{id}/archive and GET
// /containers/{id}/export. The handlers pick the container's root (its live
// mount namespace view when running, its overlay otherwise) and call
// engine/container-archive, which does the work inside that root.
import { pipeline } from 'node:stream/promises';
import { invalid } from '../../errdefs.js';
import { ScopedRoot } from '../../rootfs/scoped-root.js';
import { prepareContainerLayer, unmountContainerLayer } from '../../snapshot/container-layer.js';
import type { Engine } from '../engine.js';
import type { ContainerRecord } from '../container-record.js';
import { archiveContainerPath, archiveSpoolDir, exportRootfs, extractIntoContainer, statContainerPath } from '../container-archive.js';
import type { Router } from './router.js';

async function withRoot<T>(engine: Engine, c: ContainerRecord, fn: (root: ScopedRoot) => Promise<T>): Promise<T> {
  if (c.State.Running && c.State.Pid) return withScopedRoot(`/proc/${c.State.Pid}/root`, fn);
  return withOverlayRoot(engine, c, fn);
}

async function withScopedRoot<T>(hostPath: string, fn: (root: ScopedRoot) => Promise<T>): Promise<T> {
  const root = await ScopedRoot.open(hostPath);
  try {
    return await fn(root);
  } finally {
    await root.close();
  }
}

/**
 * Mounts a container's overlay for fn and unmounts it after (unless running), under the
 * container's lock: the client sees the response end before our unmount, and a
 * `docker start` sent at once would otherwise find its fresh rootfs unmounted
 * under it (cp then start: "executable file not found", or no output).
 */
function withOverlayRoot<T>(engine: Engine, c: ContainerRecord, fn: (root: ScopedRoot) => Promise<T>): Promise<T> {
  return engine.lock.run(c.Id, async () => {
    const image = await engine.images.get(c.Image);
    const layer = await prepareContainerLayer(engine.root, c.Id, await engine.images.lowerDirs(image));
    try {
      return await withScopedRoot(layer.merged, fn);
    } finally {
      if (!engine.containers.find(c.Id)?.State.Running) await unmountContainerLayer(engine.root, c.Id).catch(() => undefined);
    }
  });
}

const truthy = (v: string | null): boolean => v === 'true' || v === '1';

export function archiveRoutes(r: Router, engine: Engine): void {
  // docker export: the container's filesystem as one tar. The overlay's merged dir
  // on the host carries no volume, /proc or /sys mounts (those live in the
  // container's mount namespace), so it is exactly what Docker exports.
  r.add('GET', '/containers/{id}/export', async ({ res, params }) => {
    const c = engine.containers.get(params.id!);
    await withOverlayRoot(engine, c, async (root) => {
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      await pipeline(exportRootfs(root), res);
    });
  });

  r.add('GET', '/containers/{id}/archive', async ({ req, res, params, query }) => {
    const c = engine.containers.get(params.id!);
    const path = query.get('path');
    if (!path) throw invalid('path is required');
    await withRoot(engine, c, async (root) => {
      const { stat } = await statContainerPath(root, path);
      res.setHeader('X-Docker-Container-Path-Stat', Buffer.from(JSON.stringify(stat)).toString('base64'));
      if (req.method === 'HEAD') {
        res.writeHead(200).end();
        return;
      }
      const tar = await archiveContainerPath(root, path);
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      await pipeline(tar, res);
    });
  });

  r.add('PUT', '/containers/{id}/archive', async ({ req, res, params, query }) => {
    const c = engine.containers.get(params.id!);
    const path = query.get('path');
    if (!path) throw invalid('path is required');
    if (c.HostConfig.ReadonlyRootfs) throw invalid('container rootfs is marked read-only');
    await withRoot(engine, c, async (root) => {
      await extractIntoContainer(root, path, req, {
        copyUIDGID: truthy(query.get('copyUIDGID')),
        noOverwriteDirNonDir: truthy(query.get('noOverwriteDirNonDir')),
        spoolDir: archiveSpoolDir(engine.root),
      });
      res.writeHead(200).end();
    });
  });
}
