// The Docker Engine API as Compose uses it: a small typed facade over any
// client that speaks the API (tug's own ApiClient, over the unix socket).
// Compose starts containers only through these calls, as docker compose
// does, so a compose service is an ordinary engine container and the
// engine's one door is the only way in. Errors stay the transport's
// (TugError kinds: not-found, conflict...), so callers can tell them apart.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { isKind } from '../../errdefs.js';

export type Query = Record<string, string | number | boolean | string[] | undefined>;

/** What the runtime needs of an HTTP client of the engine (src/cli/client.ts ApiClient fits). */
export interface EngineTransport {
  json<T = any>(method: string, path: string, opts?: { query?: Query; body?: unknown; headers?: Record<string, string> }): Promise<T>;
  call(method: string, path: string, opts?: { query?: Query; body?: unknown; headers?: Record<string, string> }): Promise<Buffer>;
  response(method: string, path: string, opts?: { query?: Query; body?: unknown; headers?: Record<string, string> }): Promise<IncomingMessage>;
}

/** A container as GET /containers/json lists it (the fields Compose reads). */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  State: string;
  Status: string;
  Labels: Record<string, string>;
  Ports?: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>;
  HostConfig?: { NetworkMode?: string };
}

/** The fields of GET /containers/{id}/json Compose reads. */
export interface ContainerInspect {
  Id: string;
  Name: string;
  Image: string;
  State: { Status: string; Running: boolean; Restarting?: boolean; ExitCode: number; Health?: { Status: string } };
  Config: { Labels: Record<string, string> | null; Tty?: boolean; OpenStdin?: boolean };
  HostConfig: { NetworkMode?: string };
  Mounts?: Array<{ Type: string; Name?: string; Destination: string }>;
  NetworkSettings?: { Networks?: Record<string, unknown> };
}

const enc = encodeURIComponent;

export class EngineClient {
  constructor(readonly t: EngineTransport) {}

  listContainers(labels: string[], all = true): Promise<ContainerSummary[]> {
    return this.t.json('GET', '/containers/json', { query: { all: all || undefined, filters: JSON.stringify({ label: labels }) } });
  }

  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.t.json('GET', `/containers/${enc(id)}/json`);
  }

  async createContainer(name: string, body: unknown): Promise<string> {
    const r = await this.t.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body });
    return r.Id;
  }

  async startContainer(id: string): Promise<void> {
    await this.t.call('POST', `/containers/${enc(id)}/start`);
  }

  async stopContainer(id: string, timeoutSeconds?: number): Promise<void> {
    await this.t.call('POST', `/containers/${enc(id)}/stop`, { query: { t: timeoutSeconds } });
  }

  async restartContainer(id: string, timeoutSeconds?: number): Promise<void> {
    await this.t.call('POST', `/containers/${enc(id)}/restart`, { query: { t: timeoutSeconds } });
  }

  async killContainer(id: string, signal?: string): Promise<void> {
    await this.t.call('POST', `/containers/${enc(id)}/kill`, { query: { signal } });
  }

  async pauseContainer(id: string): Promise<void> {
    await this.t.call('POST', `/containers/${enc(id)}/pause`);
  }

  async unpauseContainer(id: string): Promise<void> {
    await this.t.call('POST', `/containers/${enc(id)}/unpause`);
  }

  async removeContainer(id: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    await this.t.call('DELETE', `/containers/${enc(id)}`, { query: { force: opts.force || undefined, v: opts.volumes || undefined } });
  }

  async renameContainer(id: string, name: string): Promise<void> {
    await this.t.call('POST', `/containers/${enc(id)}/rename`, { query: { name } });
  }

  /** Resolves with the exit code once the container is not running (condition not-running). */
  async waitContainer(id: string): Promise<number> {
    const r = await this.t.json<{ StatusCode: number }>('POST', `/containers/${enc(id)}/wait`, { query: { condition: 'not-running' } });
    return r.StatusCode;
  }

  logs(id: string, query: Query): Promise<IncomingMessage> {
    return this.t.response('GET', `/containers/${enc(id)}/logs`, { query: { stdout: 1, stderr: 1, ...query } });
  }

  top(id: string, psArgs?: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    return this.t.json('GET', `/containers/${enc(id)}/top`, { query: { ps_args: psArgs } });
  }

  listNetworks(labels: string[]): Promise<Array<{ Id: string; Name: string; Labels: Record<string, string> | null }>> {
    return this.t.json('GET', '/networks', { query: { filters: JSON.stringify({ label: labels }) } });
  }

  /** The network, or undefined when the engine has none by that name or id. */
  async inspectNetwork(name: string): Promise<{ Id: string; Name: string; Labels: Record<string, string> | null; Containers?: Record<string, unknown> } | undefined> {
    try {
      return await this.t.json('GET', `/networks/${enc(name)}`);
    } catch (e) {
      if (isKind(e, 'not-found')) return undefined;
      throw e;
    }
  }

  async createNetwork(body: unknown): Promise<string> {
    const r = await this.t.json<{ Id: string }>('POST', '/networks/create', { body });
    return r.Id;
  }

  async removeNetwork(name: string): Promise<void> {
    await this.t.call('DELETE', `/networks/${enc(name)}`);
  }

  async connectNetwork(network: string, container: string, endpoint: unknown): Promise<void> {
    await this.t.call('POST', `/networks/${enc(network)}/connect`, { body: { Container: container, EndpointConfig: endpoint } });
  }

  async inspectVolume(name: string): Promise<{ Name: string; Labels: Record<string, string> | null } | undefined> {
    try {
      return await this.t.json('GET', `/volumes/${enc(name)}`);
    } catch (e) {
      if (isKind(e, 'not-found')) return undefined;
      throw e;
    }
  }

  listVolumes(labels: string[]): Promise<{ Volumes: Array<{ Name: string; Labels: Record<string, string> | null }> | null }> {
    return this.t.json('GET', '/volumes', { query: { filters: JSON.stringify({ label: labels }) } });
  }

  async createVolume(body: unknown): Promise<void> {
    await this.t.call('POST', '/volumes/create', { body });
  }

  async removeVolume(name: string): Promise<void> {
    await this.t.call('DELETE', `/volumes/${enc(name)}`);
  }

  /** The image, or undefined when the engine does not have it. */
  async inspectImage(ref: string): Promise<{ Id: string; RepoTags?: string[] | null; Size?: number; Created?: string } | undefined> {
    try {
      return await this.t.json('GET', `/images/${ref}/json`);
    } catch (e) {
      if (isKind(e, 'not-found')) return undefined;
      throw e;
    }
  }

  async removeImage(ref: string): Promise<void> {
    await this.t.call('DELETE', `/images/${ref}`);
  }

  /** POST /images/create: the JSON progress stream, still to be read. */
  pullImage(fromImage: string, tag: string, auth: string): Promise<IncomingMessage> {
    return this.t.response('POST', '/images/create', { query: { fromImage, tag }, headers: { 'X-Registry-Auth': auth } });
  }

  pushImage(name: string, tag: string, auth: string): Promise<IncomingMessage> {
    return this.t.response('POST', `/images/${name}/push`, { query: { tag }, headers: { 'X-Registry-Auth': auth } });
  }

  /** POST /build with a context tar: the JSON progress stream, still to be read. */
  build(query: Query, context: Readable): Promise<IncomingMessage> {
    return this.t.response('POST', '/build', { query, body: context, headers: { 'Content-Type': 'application/x-tar' } });
  }

  events(query: Query): Promise<IncomingMessage> {
    return this.t.response('GET', '/events', { query });
  }
}

/** PUT /containers/{id}/archive: extracts a tar at `path` in the container. */
export async function putArchive(engine: EngineClient, id: string, path: string, tar: Buffer): Promise<void> {
  await engine.t.call('PUT', `/containers/${enc(id)}/archive`, { query: { path }, body: tar, headers: { 'Content-Type': 'application/x-tar' } });
}
