// A RUN step is a real container through the engine's own create/start path
// (no second runtime): its output streams to the build, its exit code decides,
// and its overlay upper dir becomes the step's layer. The container is removed
// whatever happens, so a failed or aborted build leaves none behind.
import { randomBytes } from 'node:crypto';
import { lstat, rm, readdir, rmdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { ContainerService } from '../engine/container-service.js';
import type { ImageRecord } from '../image/image-store.js';

export interface RunMount {
  type: 'bind' | 'tmpfs';
  source: string;
  target: string;
  readonly: boolean;
}

export interface RunStepInput {
  image: ImageRecord;
  argv: string[];
  env: string[];
  workdir: string;
  user: string;
  /** 'bridge', 'none', 'host', or a user-defined network's name or id (the build's networkmode, as the classic builder takes it). */
  network: string;
  extraHosts?: string[];
  mounts: RunMount[];
  onOutput(chunk: Buffer, from: 'stdout' | 'stderr'): void;
  onStart(containerId: string): void;
}

export interface RunStepResult {
  exitCode: number;
  /** The container's upper dir; valid until cleanup() runs. */
  upper: string;
  cleanup(): Promise<void>;
}

/** Paths the runtime creates as mount points when the image lacks them: never part of a layer. */
const RUNTIME_STUBS = ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/dev', '/proc', '/sys', '/run/secrets'];

export async function runStep(containers: ContainerService, input: RunStepInput): Promise<RunStepResult> {
  const { engine } = containers;
  const name = `tug-build-${randomBytes(6).toString('hex')}`;
  const binds = input.mounts.filter((m) => m.type === 'bind').map((m) => `${m.source}:${m.target}:${m.readonly ? 'ro' : 'rw'}`);
  const tmpfs: Record<string, string> = {};
  for (const m of input.mounts) if (m.type === 'tmpfs') tmpfs[m.target] = '';
  const { Id: id } = await containers.create({
    image: input.image.id,
    name,
    // [] keeps the image's ENTRYPOINT and CMD out (the engine fills what a request leaves empty from the
    // image); the image's USER applies when the stage set none, as in Docker's builder.
    entrypoint: [],
    cmd: input.argv,
    env: input.env,
    workingDir: input.workdir || '/',
    user: input.user,
    labels: { 'tug.build': 'step' },
    // A RUN step is not the service: the image's HEALTHCHECK does not probe it (Docker's builder does the same).
    healthcheck: { Test: ['NONE'] },
    attachStdout: true,
    attachStderr: true,
    network: { mode: input.network, extraHosts: input.extraHosts ?? [] },
    mounts: { binds, tmpfs },
  });
  const cleanup = async (): Promise<void> => {
    await containers.remove(id, { force: true, removeVolumes: true }).catch(() => undefined);
  };
  try {
    input.onStart(id);
    const { drained } = await attachOutput(containers, id, input.onOutput);
    await containers.start(id);
    const { StatusCode } = await containers.wait(id, 'not-running');
    await drained;
    const upper = join(engine.root, 'containers-fs', id, 'upper');
    await dropStubs(upper, input.mounts.map((m) => m.target), await engine.images.lowerDirs(input.image));
    return { exitCode: StatusCode, upper, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Parks an attach that the engine connects right after runtime create, before the process runs; drained settles when the output has ended. */
async function attachOutput(containers: ContainerService, id: string, onOutput: RunStepInput['onOutput']): Promise<{ drained: Promise<void> }> {
  let resolve!: () => void;
  const drained = new Promise<void>((r) => (resolve = r));
  await containers.attach(id, { stdin: false }, {
    connect: (streams) => {
      let open = streams.stderr ? 2 : 1;
      const done = (): void => {
        if (--open === 0) resolve();
      };
      for (const [s, from] of [[streams.stdout, 'stdout'], [streams.stderr, 'stderr']] as const) {
        if (!s) continue;
        s.on('data', (b: Buffer) => onOutput(Buffer.from(b), from));
        s.once('end', done);
        s.once('close', done);
        s.once('error', done);
      }
    },
    abort: () => resolve(),
  });
  return { drained };
}

/** Removes mount-point stubs the runtime made (not in any lower dir) from the upper dir, and the empty parents it made for them. */
async function dropStubs(upper: string, extra: string[], lowers: string[]): Promise<void> {
  const inLowers = async (p: string): Promise<boolean> => {
    for (const l of lowers) {
      try {
        await lstat(join(l, p));
        return true;
      } catch {
        // not in this one
      }
    }
    return false;
  };
  for (const target of [...RUNTIME_STUBS, ...extra]) {
    let p = posix.normalize('/' + target);
    try {
      await lstat(join(upper, p));
    } catch {
      continue;
    }
    if (await inLowers(p)) {
      // The path is the image's own: only an empty stub dir left by a bind target goes.
      continue;
    }
    await rm(join(upper, p), { recursive: true, force: true });
    for (p = posix.dirname(p); p !== '/'; p = posix.dirname(p)) {
      if (await inLowers(p)) break;
      const entries = await readdir(join(upper, p)).catch(() => ['x']);
      if (entries.length) break;
      await rmdir(join(upper, p)).catch(() => undefined);
    }
  }
}
