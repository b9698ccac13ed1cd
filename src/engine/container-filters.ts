// docker ps --filter: which containers a filter set keeps.
import { invalid } from '../errdefs.js';
import type { ContainerRecord } from './container-record.js';

const known = new Set(['id', 'name', 'label', 'status', 'exited', 'ancestor', 'before', 'since', 'network', 'volume', 'health', 'is-task', 'publish', 'expose']);
const statuses = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);
const healthStates = new Set(['starting', 'healthy', 'unhealthy', 'none']);

export function matchLabel(labels: Record<string, string>, spec: string): boolean {
  const i = spec.indexOf('=');
  if (i === -1) return spec in labels;
  return labels[spec.slice(0, i)] === spec.slice(i + 1);
}

export function containerFilter(
  filters: Record<string, string[]>,
  find: (ref: string) => ContainerRecord | undefined,
  imageMatches: (c: ContainerRecord, ancestor: string) => boolean,
): (c: ContainerRecord) => boolean {
  for (const k of Object.keys(filters)) if (!known.has(k)) throw invalid(`invalid filter '${k}'`);
  for (const s of filters.status ?? []) if (!statuses.has(s)) throw invalid(`invalid filter 'status=${s}'`);
  for (const h of filters.health ?? []) if (!healthStates.has(h)) throw invalid(`Unrecognised filter value for health: ${h}`);
  const before = filters.before?.[0] ? find(filters.before[0]) : undefined;
  const since = filters.since?.[0] ? find(filters.since[0]) : undefined;
  if (filters.before?.[0] && !before) throw invalid(`No such container: ${filters.before[0]}`);
  if (filters.since?.[0] && !since) throw invalid(`No such container: ${filters.since[0]}`);
  return (c) => {
    const any = (key: string, pred: (v: string) => boolean): boolean => !filters[key]?.length || filters[key]!.some(pred);
    return (
      any('id', (v) => c.Id.startsWith(v)) &&
      any('name', (v) => new RegExp(v).test(c.Name)) && // against '/name', as dockerd matches
      (filters.label ?? []).every((l) => matchLabel(c.Config.Labels ?? {}, l)) &&
      any('status', (v) => c.State.Status === v) &&
      any('exited', (v) => !c.State.Running && c.State.Status === 'exited' && c.State.ExitCode === Number(v)) &&
      any('health', (v) => (c.State.Health?.Status ?? 'none') === v) &&
      any('ancestor', (v) => imageMatches(c, v)) &&
      any('network', (v) => c.HostConfig.NetworkMode === v || Object.entries(c.NetworkSettings.Networks ?? {}).some(([name, ep]) => name === v || ep.NetworkID === v || (v.length >= 12 && ep.NetworkID.startsWith(v)))) &&
      any('volume', (v) => c.Mounts.some((m) => m.Name === v || m.Destination === v)) &&
      any('publish', (v) => Object.values(c.NetworkSettings.Ports ?? {}).some((bs) => (bs ?? []).some((b) => b.HostPort === v.split('/')[0]))) &&
      any('expose', (v) => Object.keys(c.Config.ExposedPorts ?? {}).some((p) => p === v || p.split('/')[0] === v)) &&
      (!before || Date.parse(c.Created) < Date.parse(before.Created)) &&
      (!since || Date.parse(c.Created) > Date.parse(since.Created))
    );
  };
}
