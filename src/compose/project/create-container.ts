// Making one container of a service: the create body (container-body.ts),
// its networks (the first in the body, the others connected before start,
// as docker compose does, since older engine APIs take one network at
// create), and the inline files copied in. A container half-made (created,
// then a connect or copy failed) is removed again before the error is
// thrown, so nothing of it is left behind.
import { kindOf, messageOf, TugError } from '../../errdefs.js';
import type { ComposeProject, ServiceConfig, ServiceNetworkConfig } from '../model/project-types.js';
import { containerBody } from './container-body.js';
import { copyInlineFiles } from './inline-files.js';
import { containerLabels, IMAGE, configHash } from './labels.js';
import { networkConfig } from './project-resources.js';
import type { Runtime } from './runtime.js';

export interface NewContainer {
  service: ServiceConfig;
  name: string;
  number: number;
  oneoff: boolean;
  image: string;
  imageId?: string;
  /** service → a container id of it, for network_mode/pid/ipc `service:X`. */
  containerOf(service: string): string;
  inheritedVolumes?: Array<{ name: string; target: string }>;
  /** Overrides for `compose run`: command, env, ports... applied to the body after it is made. */
  adjust?(body: Record<string, any>): void;
}

export async function createServiceContainer(rt: Runtime, project: ComposeProject, c: NewContainer): Promise<string> {
  const svc = c.service;
  const labels = containerLabels(project, svc, c.number, configHash(svc), c.oneoff);
  if (c.imageId) labels[IMAGE] = c.imageId;
  const { body, files } = containerBody(svc, { project, image: c.image, labels, containerOf: c.containerOf, inheritedVolumes: c.inheritedVolumes });
  const extra = attachNetworks(project, svc, body, c.containerOf);
  c.adjust?.(body);
  const id = await rt.engine.createContainer(c.name, body);
  try {
    for (const [net, endpoint] of extra) await rt.engine.connectNetwork(net, id, endpoint);
    try {
      await copyInlineFiles(rt.engine, id, files);
    } catch (e) {
      throw new TugError(kindOf(e), `service "${svc.name}": cannot write its inline secrets/configs (${files.map((f) => f.target).join(', ')}) into ${c.name}: ${messageOf(e)}`);
    }
  } catch (e) {
    await rt.engine.removeContainer(id, { force: true }).catch(() => undefined);
    throw e;
  }
  return id;
}

/**
 * Puts the network mode and the first network in the body; returns the other
 * networks to connect. The service name is always an alias on each network,
 * so containers find each other by service name, as with compose.
 */
function attachNetworks(project: ComposeProject, svc: ServiceConfig, body: Record<string, any>, containerOf: (s: string) => string): Array<[string, Record<string, unknown>]> {
  const hc = (body.HostConfig ??= {});
  if (svc.network_mode) {
    const m = svc.network_mode;
    hc.NetworkMode = m.startsWith('service:') ? `container:${containerOf(m.slice('service:'.length))}` : m;
    return [];
  }
  const nets: Array<[string, ServiceNetworkConfig]> = Object.keys(svc.networks).length
    ? Object.entries(svc.networks)
    : [['default', { aliases: [] }]];
  nets.sort(([a, x], [b, y]) => (y.priority ?? 0) - (x.priority ?? 0) || a.localeCompare(b));
  const endpoints = nets.map(([key, n]): [string, Record<string, unknown>] => [
    networkConfig(project, key).name,
    {
      Aliases: [svc.name, ...n.aliases.filter((a) => a !== svc.name)],
      ...(n.ipv4_address ? { IPAMConfig: { IPv4Address: n.ipv4_address } } : {}),
      ...(n.mac_address ? { MacAddress: n.mac_address } : {}),
    },
  ]);
  const [primary, ...rest] = endpoints;
  hc.NetworkMode = primary![0];
  // The default bridge takes no aliases: compose sends none there.
  if (!['bridge', 'host', 'none'].includes(primary![0])) body.NetworkingConfig = { EndpointsConfig: { [primary![0]]: primary![1] } };
  return rest;
}
