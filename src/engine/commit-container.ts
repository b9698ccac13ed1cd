// docker commit: the container's overlay upper dir becomes a new layer on top
// of its image, and the image config is the container's own (its Cmd, Env, ...)
// with the request's fields and --change applied.
//
// A running container is frozen (runc pause) while its upper dir is read, as
// Docker pauses by default: the layer is then one consistent instant, and a
// container cannot swap a directory for a symlink to a host path between the
// walk that lists its files and the tar that reads them. tug freezes even when
// asked not to pause (pause=false), since that race is a way out of the container.
import { access, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OciContainerConfig } from '../oci/image-spec.js';
import type { Engine } from './engine.js';

// The container config fields an image config carries (the rest are run-time settings).
const imageConfigFields = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'Healthcheck', 'OnBuild', 'Shell'] as const;

export interface CommitRequest {
  ref?: string;
  changes: string[];
  comment?: string;
  author?: string;
  /** Image config fields from the request body; the container's own fill the rest. */
  config: Record<string, unknown>;
}

export async function commitContainer(engine: Engine, containerRef: string, req: CommitRequest): Promise<{ id: string; containerId: string; name: string }> {
  const c = engine.containers.get(containerRef);
  const config: OciContainerConfig = {};
  const from = c.Config as unknown as Record<string, unknown>;
  for (const k of imageConfigFields) {
    const v = req.config[k] ?? from[k];
    if (v !== undefined && v !== null && v !== '') (config as Record<string, unknown>)[k] = v;
  }
  const upper = join(engine.root, 'containers-fs', c.Id, 'upper');
  // A never-started container has no upper dir: its layer is empty.
  const hasUpper = await access(upper).then(() => true, () => false);
  const base = await engine.images.get(c.Image);
  const empty = hasUpper ? null : await mkdtemp(join(engine.root, 'commit-empty-'));
  const freeze = c.State.Running && !c.State.Paused && (await freezeIfRunning(engine, c.Id));
  try {
    const img = await engine.images.commit(base, empty ?? upper, {
      ref: req.ref, changes: req.changes, comment: req.comment, author: req.author, config,
      container: { id: c.Id, config: c.Config as unknown as Record<string, unknown> },
    });
    return { id: img.id, containerId: c.Id, name: c.Name.replace(/^\//, '') };
  } finally {
    if (freeze) await engine.runtime.resume(c.Id).catch(() => undefined);
    if (empty) await rm(empty, { recursive: true, force: true });
  }
}

/**
 * Freezes a container the record calls running. One that exited meanwhile (docker-py
 * commits right after start) cannot race the read any more: it is committed as it
 * is, as dockerd's pause is skipped for a stopped container. Returns whether it froze.
 */
async function freezeIfRunning(engine: Engine, id: string): Promise<boolean> {
  try {
    await engine.runtime.pause(id);
    return true;
  } catch (err) {
    const { status } = await engine.runtime.state(id).catch(() => ({ status: 'absent' }));
    if (status === 'running') throw err;
    return false;
  }
}
