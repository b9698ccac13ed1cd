// docker cp: HEAD/GET/PUT /containers/{id}/archive. Paths are resolved inside
// the container's root (its live mount namespace view when running, its
// overlay otherwise); GNU tar does the archiving.
import { lstat, readlink } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { basename, dirname } from 'node:path';
import { invalid, notFound } from '../../errdefs.js';
import { prepareContainerLayer, unmountContainerLayer } from '../../snapshot/container-layer.js';
import type { Engine } from '../engine.js';
import type { ContainerRecord } from '../container-record.js';
import { resolveInScope } from '../scoped-path.js';
import type { Router } from './router.js';

/** Go's os.FileMode bits, which the docker CLI decodes from the stat header. */
function goFileMode(st: import('node:fs').Stats): number {
  let m = st.mode & 0o777;
  if (st.isDirectory()) m |= 2 ** 31;
  if (st.isSymbolicLink()) m |= 2 ** 27;
  // JS bitwise ops are signed 32-bit: the ModeDir bit (1<<31) made the number negative,
  // which Go's uint32 FileMode cannot decode (docker cp from a directory failed).
  return m >>> 0;
}

async function withRoot<T>(engine: Engine, c: ContainerRecord, fn: (root: string) => Promise<T>): Promise<T> {
  if (c.State.Running && c.State.Pid) return fn(`/proc/${c.State.Pid}/root`);
  return withOverlayRoot(engine, c, fn);
}

/**
 * Mounts a container's overlay for fn and unmounts it after (unless running), under the
 * container's lock: the client sees the response end before our unmount, and a
 * `docker start` sent at once would otherwise find its fresh rootfs unmounted
 * under it (cp then start: "executable file not found", or no output).
 */
function withOverlayRoot<T>(engine: Engine, c: ContainerRecord, fn: (root: string) => Promise<T>): Promise<T> {
  return engine.lock.run(c.Id, async () => {
    const image = await engine.images.get(c.Image);
    const layer = await prepareContainerLayer(engine.root, c.Id, await engine.images.lowerDirs(image));
    try {
      return await fn(layer.merged);
    } finally {
      if (!engine.containers.find(c.Id)?.State.Running) await unmountContainerLayer(engine.root, c.Id).catch(() => undefined);
    }
  });
}

async function statHeader(root: string, path: string): Promise<{ header: string; hostPath: string; isDir: boolean }> {
  const hostPath = await resolveInScope(root, path, false);
  let st;
  try {
    st = await lstat(hostPath);
  } catch {
    throw notFound(`Could not find the file ${path} in container`);
  }
  const linkTarget = st.isSymbolicLink() ? await readlink(hostPath) : '';
  const stat = { name: basename(path) || '/', size: st.size, mode: goFileMode(st), mtime: st.mtime.toISOString(), linkTarget };
  return { header: Buffer.from(JSON.stringify(stat)).toString('base64'), hostPath, isDir: st.isDirectory() };
}

function runTar(args: string[], input: NodeJS.ReadableStream | null, output: NodeJS.WritableStream | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('tar', args, { stdio: [input ? 'pipe' : 'ignore', output ? 'pipe' : 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    if (input) input.pipe(p.stdin!);
    if (output) p.stdout!.pipe(output, { end: false });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(invalid(`archive: ${err.trim() || `tar exited ${code}`}`))));
  });
}

export function archiveRoutes(r: Router, engine: Engine): void {
  // docker export: the container's filesystem as one tar. The overlay's merged dir
  // on the host carries no volume, /proc or /sys mounts (those live in the
  // container's mount namespace), so it is exactly what Docker exports.
  r.add('GET', '/containers/{id}/export', async ({ res, params }) => {
    const c = engine.containers.get(params.id!);
    await withOverlayRoot(engine, c, async (merged) => {
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      await runTar(['-C', merged, '-c', '--numeric-owner', '-f', '-', '.'], null, res);
      res.end();
    });
  });

  r.add('GET', '/containers/{id}/archive', async ({ req, res, params, query }) => {
    const c = engine.containers.get(params.id!);
    const path = query.get('path');
    if (!path) throw invalid('path is required');
    await withRoot(engine, c, async (root) => {
      const { header, hostPath } = await statHeader(root, path);
      res.setHeader('X-Docker-Container-Path-Stat', header);
      if (req.method === 'HEAD') {
        res.writeHead(200).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      const name = path.endsWith('/.') ? '.' : basename(hostPath);
      const dir = path.endsWith('/.') ? hostPath : dirname(hostPath);
      await runTar(['-C', dir, '-c', '--numeric-owner', '-f', '-', name], null, res);
      res.end();
    });
  });

  r.add('PUT', '/containers/{id}/archive', async ({ req, res, params, query }) => {
    const c = engine.containers.get(params.id!);
    const path = query.get('path');
    if (!path) throw invalid('path is required');
    if (c.HostConfig.ReadonlyRootfs) throw invalid('container rootfs is marked read-only');
    await withRoot(engine, c, async (root) => {
      const { hostPath, isDir } = await statHeader(root, path);
      if (!isDir) throw invalid(`extraction point is not a directory: ${path}`);
      const owner = query.get('copyUIDGID') === 'true' || query.get('copyUIDGID') === '1' ? ['--same-owner'] : ['--no-same-owner'];
      await runTar(['-C', hostPath, '-x', '--numeric-owner', '-p', ...owner, '-f', '-'], req, null);
      res.writeHead(200).end();
    });
  });
}
