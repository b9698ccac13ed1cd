// `compose run`: a one-off container of a service (label oneoff=True, named
// <project>-<service>-run-<id>), after bringing up what the service depends
// on. It gets the service's config with the run's overrides; the service's
// ports are published only with --service-ports (as compose does), and its
// container is started and attached by the caller.
import { randomBytes } from 'node:crypto';
import type { ComposeProject } from '../model/project-types.js';
import { createServiceContainer } from './create-container.js';
import { oneOffName } from './labels.js';
import { ensureNetworks, ensureVolumes, networksUsed, volumesUsed } from './project-resources.js';
import { projectContainers } from './project-state.js';
import type { Runtime } from './runtime.js';
import { ensureImages, imageOf } from './service-images.js';
import { selectServices, up } from './up.js';

export interface RunOptions {
  service: string;
  /** The command after the service name; empty keeps the service's. */
  command: string[];
  entrypoint?: string[];
  /** KEY=value lines added to the service's environment. */
  env: string[];
  labels: Record<string, string>;
  name?: string;
  user?: string;
  workdir?: string;
  /** -p: port key ('80/tcp') → bindings. */
  publish: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  servicePorts: boolean;
  /** -v specs as the engine's Binds take them. */
  volumes: string[];
  tty: boolean;
  interactive: boolean;
  noDeps: boolean;
  /** --build: build the service's image first. */
  build: boolean;
}

export async function createOneOff(rt: Runtime, project: ComposeProject, o: RunOptions): Promise<{ id: string; name: string }> {
  selectServices(project, [o.service]);
  const svc = project.services[o.service]!;
  const deps = selectServices(project, [o.service]).filter((s) => s !== o.service);
  if (!o.noDeps && deps.length) await up(rt, project, { services: deps });
  await ensureNetworks(rt.engine, project, networksUsed(project, [o.service]), rt.progress);
  await ensureVolumes(rt.engine, project, volumesUsed(project, [o.service]), rt.progress);
  const ids = await ensureImages(rt.engine, project, [o.service], { build: o.build }, rt.progress, rt.auth);
  const existing = await projectContainers(rt.engine, project.name, { oneoff: true });
  const number = existing.filter((c) => c.oneoff && c.service === o.service).length + 1;
  const name = o.name ?? oneOffName(project.name, o.service, randomBytes(6).toString('hex'));
  const live = new Map<string, string>();
  for (const c of existing) if (!c.oneoff && !live.has(c.service)) live.set(c.service, c.id);
  const id = await createServiceContainer(rt, project, {
    service: svc,
    name,
    number,
    oneoff: true,
    image: imageOf(project, svc),
    imageId: ids.get(o.service),
    containerOf: (s) => {
      const found = live.get(s);
      if (!found) throw new Error(`service "${o.service}" shares a namespace with service "${s}", which has no container`);
      return found;
    },
    adjust: (body) => {
      const hc = (body.HostConfig ??= {});
      if (o.command.length) body.Cmd = o.command;
      if (o.entrypoint) body.Entrypoint = o.entrypoint;
      body.Env = [...(body.Env ?? []), ...o.env];
      body.Labels = { ...body.Labels, ...o.labels };
      if (o.user !== undefined) body.User = o.user;
      if (o.workdir !== undefined) body.WorkingDir = o.workdir;
      if (!o.servicePorts) delete hc.PortBindings;
      if (Object.keys(o.publish).length) {
        hc.PortBindings = { ...(hc.PortBindings ?? {}), ...o.publish };
        body.ExposedPorts = { ...(body.ExposedPorts ?? {}), ...Object.fromEntries(Object.keys(o.publish).map((k) => [k, {}])) };
      }
      if (o.volumes.length) hc.Binds = [...(hc.Binds ?? []), ...o.volumes];
      body.Tty = o.tty;
      body.OpenStdin = o.interactive;
      body.StdinOnce = o.interactive;
      body.AttachStdin = o.interactive;
      body.AttachStdout = true;
      body.AttachStderr = true;
      // compose removes the container itself after it ends (--rm), not the engine.
      hc.RestartPolicy = { Name: '', MaximumRetryCount: 0 };
    },
  });
  return { id, name };
}
