// /volumes/* of the Docker Engine API.
import type { Engine } from '../engine/engine.js';
import type { VolumeRecord } from '../engine/volume-store.js';
import { matchLabel } from '../engine/container-filters.js';
import { invalid } from '../errdefs.js';
import { boolParam, filtersParam, readJson, sendJson, sendNoContent } from './body.js';
import type { Router } from './router.js';

export function volumeView(v: VolumeRecord): Record<string, unknown> {
  return { CreatedAt: v.CreatedAt, Driver: v.Driver, Labels: v.Labels, Mountpoint: v.Mountpoint, Name: v.Name, Options: v.Options, Scope: v.Scope };
}

export function volumeUsers(engine: Engine, name: string): string[] {
  return engine.containers.all().filter((c) => c.Mounts.some((m) => m.Type === 'volume' && m.Name === name)).map((c) => c.Id);
}

export function volumeRoutes(r: Router, engine: Engine): void {
  r.add('GET', '/volumes', async ({ res, query }) => {
    const f = filtersParam(query);
    for (const k of Object.keys(f)) if (!['name', 'label', 'dangling', 'driver'].includes(k)) throw invalid(`invalid filter '${k}'`);
    const list = engine.volumes.list().filter((v) =>
      (!f.name?.length || f.name.some((n) => v.Name.includes(n))) &&
      (f.label ?? []).every((l) => matchLabel(v.Labels, l)) &&
      (!f.driver?.length || f.driver.includes(v.Driver)) &&
      (!f.dangling?.length || f.dangling.some((d) => (d === 'true' || d === '1') === (volumeUsers(engine, v.Name).length === 0))),
    );
    sendJson(res, 200, { Volumes: list.map(volumeView), Warnings: null });
  });

  r.add('POST', '/volumes/create', async ({ req, res }) => {
    const body = (await readJson(req)) ?? {};
    const v = await engine.volumes.create(body);
    engine.events.emit('volume', 'create', v.Name, { driver: v.Driver });
    sendJson(res, 201, volumeView(v));
  });

  r.add('POST', '/volumes/prune', async ({ res, query }) => {
    const f = filtersParam(query);
    const all = (f.all ?? []).some((x) => x === 'true' || x === '1');
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of engine.volumes.list()) {
      if (volumeUsers(engine, v.Name).length) continue;
      if (!all && !v.anonymous) continue; // Docker 23+: only anonymous volumes unless all=true
      if (!(f.label ?? []).every((l) => matchLabel(v.Labels, l))) continue;
      reclaimed += await engine.volumes.sizeOf(v.Name);
      await engine.volumes.remove(v.Name, []);
      engine.events.emit('volume', 'destroy', v.Name, { driver: v.Driver });
      deleted.push(v.Name);
    }
    sendJson(res, 200, { VolumesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
  });

  r.add('GET', '/volumes/{name}', async ({ res, params }) => {
    sendJson(res, 200, volumeView(engine.volumes.get(params.name!)));
  });

  r.add('DELETE', '/volumes/{name}', async ({ res, params, query }) => {
    const name = params.name!;
    await engine.volumes.remove(name, volumeUsers(engine, name), boolParam(query, 'force'));
    engine.events.emit('volume', 'destroy', name, { driver: 'local' });
    sendNoContent(res);
  });
}
