// /_ping, /version, /info, /events and /system/df of the Docker Engine API.
import { cpus, hostname, release, totalmem, type as osType, arch } from 'node:os';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Engine } from '../engine/engine.js';
import type { EngineEvent } from '../engine/events.js';
import { dirSize } from '../engine/volume-store.js';
import { filtersParam, sendJson } from './body.js';
import type { Router } from './router.js';
import { parseTimeParam } from './time-param.js';
import { imageSummary } from './routes-images.js';
import { listEntry } from '../engine/container-view.js';
import { volumeUsers, volumeView } from './routes-volumes.js';

export const apiVersion = '1.45';
export const minApiVersion = '1.24';
export const tugVersion = '0.1.0';

const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm' };

export function pingHeaders(): Record<string, string> {
  return {
    'API-Version': apiVersion,
    'Docker-Experimental': 'false',
    'Ostype': 'linux',
    'Builder-Version': '1',
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    Pragma: 'no-cache',
  };
}

function eventMatches(e: EngineEvent, f: Record<string, string[]>): boolean {
  const any = (k: string, pred: (v: string) => boolean): boolean => !f[k]?.length || f[k]!.some(pred);
  return (
    any('type', (v) => e.Type === v) &&
    any('event', (v) => e.Action === v || e.Action.startsWith(`${v}:`)) &&
    any('container', (v) => e.Type === 'container' && (e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v)) &&
    any('image', (v) => e.Actor.Attributes.image === v || (e.Type === 'image' && e.Actor.ID === v)) &&
    any('volume', (v) => e.Type === 'volume' && e.Actor.ID === v) &&
    (f.label ?? []).every((l) => {
      const i = l.indexOf('=');
      return i === -1 ? l in e.Actor.Attributes : e.Actor.Attributes[l.slice(0, i)] === l.slice(i + 1);
    })
  );
}

export function systemRoutes(r: Router, engine: Engine): void {
  r.add('GET', '/_ping', async ({ req, res }) => {
    res.writeHead(200, { ...pingHeaders(), 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': req.method === 'HEAD' ? 0 : 2 });
    res.end(req.method === 'HEAD' ? undefined : 'OK');
  });

  r.add('GET', '/version', async ({ res }) => {
    const v = {
      Platform: { Name: 'tug' },
      Components: [{ Name: 'Engine', Version: tugVersion, Details: { ApiVersion: apiVersion, MinAPIVersion: minApiVersion, Os: 'linux', Arch: goArch[arch()] ?? arch() } }],
      Version: tugVersion,
      ApiVersion: apiVersion,
      MinAPIVersion: minApiVersion,
      GitCommit: '',
      GoVersion: `node${process.versions.node}`,
      Os: 'linux',
      Arch: goArch[arch()] ?? arch(),
      KernelVersion: release(),
      BuildTime: '',
    };
    sendJson(res, 200, v);
  });

  r.add('GET', '/info', async ({ res }) => {
    const cs = engine.containers.all();
    const images = await engine.images.list();
    const cgroupV2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
    sendJson(res, 200, {
      ID: createHash('sha256').update(engine.root).digest('hex').slice(0, 36),
      Containers: cs.length,
      ContainersRunning: cs.filter((c) => c.State.Running && !c.State.Paused).length,
      ContainersPaused: cs.filter((c) => c.State.Paused).length,
      ContainersStopped: cs.filter((c) => !c.State.Running).length,
      Images: images.length,
      Driver: 'overlay2',
      DriverStatus: [['Backing Filesystem', 'extfs']],
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['json-file'] },
      MemoryLimit: true,
      SwapLimit: true,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      PidsLimit: true,
      IPv4Forwarding: true,
      Debug: false,
      NFd: 0,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file', // conmon's log behaves as json-file does (what inspect reports too)
      CgroupDriver: 'cgroupfs',
      CgroupVersion: cgroupV2 ? '2' : '1',
      NEventsListener: 0,
      KernelVersion: release(),
      OperatingSystem: 'tug on ' + osType(),
      OSVersion: '',
      OSType: 'linux',
      Architecture: arch() === 'x64' ? 'x86_64' : arch(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: { InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: {}, Mirrors: [] },
      NCPU: cpus().length,
      MemTotal: totalmem(),
      DockerRootDir: engine.root,
      Name: hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: tugVersion,
      Runtimes: { runc: { path: 'runc' } },
      DefaultRuntime: 'runc',
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: 'docker-init',
      SecurityOptions: ['name=seccomp,profile=builtin', ...(cgroupV2 ? ['name=cgroupns'] : [])],
      Warnings: null,
    });
  });

  r.add('GET', '/events', async ({ req, res, query }) => {
    const f = filtersParam(query);
    // since=0 is the epoch for dockerd's events (replay all history), not "unset".
    const since = query.get('since') === '0' ? new Date(0) : parseTimeParam(query.get('since'));
    const until = parseTimeParam(query.get('until'));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const untilNs = until ? until.getTime() * 1e6 : Infinity;
    const send = (e: EngineEvent): boolean => {
      if (e.timeNano > untilNs) return false;
      if (eventMatches(e, f)) res.write(JSON.stringify(e) + '\n');
      return true;
    };
    if (since) for (const e of engine.events.since(since.getTime() * 1e6)) if (!send(e)) break;
    if (until && until.getTime() <= Date.now()) {
      res.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const unsubscribe = engine.events.subscribe((e) => {
        if (!send(e)) done();
      });
      const timer = until ? setTimeout(() => done(), until.getTime() - Date.now()) : undefined;
      function done(): void {
        unsubscribe();
        if (timer) clearTimeout(timer);
        resolve();
      }
      req.once('close', done);
      res.once('close', done);
    });
    res.end();
  });

  r.add('GET', '/system/df', async ({ res }) => {
    const images = await engine.images.list();
    const containers = await Promise.all(
      engine.containers.all().map(async (c) => {
        const rw = await dirSize(`${engine.root}/containers-fs/${c.Id}/upper`);
        return listEntry(c, c.Config.Image, { rw, rootFs: rw + (images.find((i) => i.id === c.Image)?.size ?? 0) });
      }),
    );
    const volumes = await Promise.all(
      engine.volumes.list().map(async (v) => ({ ...volumeView(v), UsageData: { Size: await dirSize(v.Mountpoint), RefCount: volumeUsers(engine, v.Name).length } })),
    );
    const layersSize = images.reduce((n, i) => n + i.size, 0);
    sendJson(res, 200, {
      LayersSize: layersSize,
      Images: images.map((i) => ({ ...imageSummary(i), SharedSize: 0, Containers: engine.containers.all().filter((c) => c.Image === i.id).length })),
      Containers: containers,
      Volumes: volumes,
      BuildCache: [],
    });
  });
}
