// The API server's own metrics-server: every resolution interval it scrapes
// each node agent's /metrics/resource (over TLS at the node's address, with
// the API server's kubelet-client certificate, as pods/log is proxied) and turns
// the cumulative CPU counters of two scrapes into a rate, as metrics-server does
// (a container that started between two scrapes is rated from its start). A node
// whose scrape fails drops out until a scrape succeeds again (metrics-server
// replaces its whole store with each round). Nothing is stored: the latest
// round lives in memory and metrics-api.ts serves it. While nobody has read
// metrics for a minute (no HPA, no kubectl top), rounds slow to one every
// 10 s, so idle clusters on a shared machine do not pay for a per-second
// scrape; the first read after that wakes the fast pace at once.
import { nodeAgentEndpoint, type NodeEndpoint } from '../node-endpoint.js';
import { Agent } from 'node:https';
import { agentRequest, type KubeletClientTls } from '../kubelet-client.js';
import { messageOf } from '../../errdefs.js';
import type { ObjectStore } from '../object-store.js';
import { parsePrometheusText, type Sample } from './prometheus-text.js';

/** metrics-server's default is 60 s (minimum 10 s); tug reacts faster, see `tug server --metric-resolution`. */
export const DEFAULT_METRIC_RESOLUTION_MS = 1000;
const SCRAPE_TIMEOUT_MS = 5000;
/** The pace while nobody reads metrics, and how long a read keeps the fast pace. */
const IDLE_RESOLUTION_MS = 10_000;
const DEMAND_HOLD_MS = 60_000;

export interface Point {
  /** Sample time, ms since the epoch. */
  at: number;
  cpuSeconds: number;
  workingSetBytes: number;
  /** Container start time (s): a different one means a restart, and no rate across it. */
  start?: number;
}

export interface Usage {
  timestamp: number;
  windowMs: number;
  cpuNanoCores: number;
  memoryBytes: number;
}

export interface PodUsage {
  node: string;
  timestamp: number;
  windowMs: number;
  containers: Array<{ name: string; cpuNanoCores: number; memoryBytes: number }>;
}

interface NodePoints {
  node?: Point;
  /** ns/pod/container -> point */
  containers: Map<string, Point>;
}

/**
 * The point before a container's first scrape, when it started after the
 * node's previous scrape (so it could not be in it) and at least `minAgeMs`
 * before this one: its start, with no CPU used yet. metrics-server does the
 * same for a fresh container, so a pod has usage from its first scrape
 * instead of its second.
 */
export function startPoint(cur: Point, prevScrapeAt: number | undefined, minAgeMs: number): Point | undefined {
  if (cur.start === undefined || prevScrapeAt === undefined) return undefined;
  const startMs = cur.start * 1000;
  if (startMs <= prevScrapeAt || cur.at - startMs < minAgeMs) return undefined;
  return { at: startMs, cpuSeconds: 0, workingSetBytes: cur.workingSetBytes, start: cur.start };
}

/** The rate between two points of one counter, if they can be compared. */
function usageBetween(prev: Point | undefined, cur: Point | undefined): Usage | undefined {
  if (!prev || !cur || cur.at <= prev.at || cur.cpuSeconds < prev.cpuSeconds) return undefined;
  if (prev.start !== undefined && cur.start !== undefined && prev.start !== cur.start) return undefined;
  const windowMs = cur.at - prev.at;
  return { timestamp: cur.at, windowMs, cpuNanoCores: Math.round(((cur.cpuSeconds - prev.cpuSeconds) / windowMs) * 1e12), memoryBytes: cur.workingSetBytes };
}

/** One scrape's samples as points per node and per container. */
export function pointsOf(samples: Sample[], fallbackAt: number): NodePoints {
  const out: NodePoints = { containers: new Map() };
  const node: Partial<Point> = {};
  const containers = new Map<string, Partial<Point>>();
  for (const s of samples) {
    const at = s.timestampMs ?? fallbackAt;
    const l = s.labels;
    const c = (): Partial<Point> => {
      const k = `${l.namespace}/${l.pod}/${l.container}`;
      let p = containers.get(k);
      if (!p) containers.set(k, (p = {}));
      return p;
    };
    switch (s.name) {
      case 'node_cpu_usage_seconds_total':
        Object.assign(node, { cpuSeconds: s.value, at });
        break;
      case 'node_memory_working_set_bytes':
        node.workingSetBytes = s.value;
        break;
      case 'container_cpu_usage_seconds_total':
        Object.assign(c(), { cpuSeconds: s.value, at });
        break;
      case 'container_memory_working_set_bytes':
        c().workingSetBytes = s.value;
        break;
      case 'container_start_time_seconds':
        c().start = s.value;
        break;
    }
  }
  const complete = (p: Partial<Point>): p is Point => p.at !== undefined && p.cpuSeconds !== undefined && p.workingSetBytes !== undefined;
  if (complete(node)) out.node = node;
  for (const [k, p] of containers) if (complete(p)) out.containers.set(k, p);
  return out;
}

export interface ScraperOptions {
  objects: ObjectStore;
  kubeletClient: KubeletClientTls;
  resolutionMs?: number;
  log?: (msg: string) => void;
}

export class MetricsScraper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  /** Per node: the points of the scrape before and of the latest one. */
  private readonly points = new Map<string, { prev: NodePoints; cur: NodePoints }>();
  private nodeUsage = new Map<string, Usage>();
  private podUsage = new Map<string, PodUsage>();
  private readonly failures = new Map<string, string>();
  /** When each node's latest scrape was sent, whether or not it answered. */
  private readonly attempts = new Map<string, number>();
  /** Containers that started after this: new to this scraper, whatever node they are on. */
  private startedAt = Date.now();
  private lastDemand = 0;
  readonly resolutionMs: number;
  /** Kept-alive TLS connections to the agents: a scrape a second need not pay a handshake each. */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 2 });

  constructor(private readonly o: ScraperOptions) {
    this.resolutionMs = o.resolutionMs ?? DEFAULT_METRIC_RESOLUTION_MS;
  }

  start(): void {
    this.startedAt = Date.now();
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    this.timer = undefined;
    this.running = this.scrapeAll()
      .catch((err) => this.o.log?.(`metrics: ${messageOf(err)}`))
      .finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        const busy = Date.now() - this.lastDemand < DEMAND_HOLD_MS;
        this.timer = setTimeout(() => this.tick(), busy ? this.resolutionMs : Math.max(this.resolutionMs, IDLE_RESOLUTION_MS));
        this.timer.unref();
      });
  }

  /**
   * Someone reads metrics: keep (or get back to) the fast pace. After an idle
   * spell the read waits for the round this starts (or the one under way),
   * so the first `kubectl top` gets numbers as fresh as at the fast pace and
   * a pod started during the idle spell is in them.
   */
  async demand(): Promise<void> {
    const idle = Date.now() - this.lastDemand >= DEMAND_HOLD_MS;
    this.lastDemand = Date.now();
    if (!idle || this.stopped) return;
    if (this.timer && !this.running) {
      clearTimeout(this.timer);
      this.tick();
    }
    await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    this.agent.destroy();
  }

  node(name: string): Usage | undefined {
    return this.nodeUsage.get(name);
  }

  /** Usage of pod ns/name, when every one of its containers has a rate. */
  pod(namespace: string, name: string): PodUsage | undefined {
    return this.podUsage.get(`${namespace}/${name}`);
  }

  /** One round: every node with an agent endpoint, at once. */
  async scrapeAll(): Promise<void> {
    const nodeType = this.o.objects.registry.lookup('', 'v1', 'nodes')!;
    const nodes = (await this.o.objects.list(nodeType, undefined, {})).items;
    const nodeUsage = new Map<string, Usage>();
    const podUsage = new Map<string, PodUsage>();
    await Promise.all(
      nodes.map(async (n) => {
        const name = n.metadata!.name!;
        const endpoint = nodeAgentEndpoint(n);
        if (!endpoint) return;
        let cur: NodePoints;
        // A container that started after the previous attempt, even a failed one (a node
        // whose serving certificate was not issued yet), or on a node not tried yet after
        // this scraper started, cannot have been in any scrape: it is rated from its start.
        // One that ran before this scraper started waits for a second scrape (after a
        // server restart, a lifetime average is no current rate for an HPA to act on).
        const previousAttempt = this.attempts.get(name) ?? this.startedAt;
        this.attempts.set(name, Date.now());
        try {
          cur = pointsOf(parsePrometheusText(await this.fetch(endpoint)), Date.now());
          this.failures.delete(name);
        } catch (err) {
          const msg = messageOf(err);
          // Said once per new failure, not every round.
          if (this.failures.get(name) !== msg) this.o.log?.(`metrics: scraping node ${name}: ${msg}`);
          this.failures.set(name, msg);
          this.points.delete(name);
          return;
        }
        const prev: NodePoints = this.points.get(name)?.cur ?? { containers: new Map() };
        this.points.set(name, { prev, cur });
        const nu = usageBetween(prev.node, cur.node);
        if (nu) nodeUsage.set(name, nu);
        const pods = new Map<string, { containers: PodUsage['containers']; ok: boolean; timestamp: number; windowMs: number }>();
        for (const [k, p] of cur.containers) {
          const [ns, pod, container] = k.split('/') as [string, string, string];
          // A container new since the last scrape, or restarted since, is rated from its start.
          const u = usageBetween(prev.containers.get(k), p) ?? usageBetween(startPoint(p, prev.node?.at ?? previousAttempt, this.resolutionMs), p);
          const entry = pods.get(`${ns}/${pod}`) ?? { containers: [], ok: true, timestamp: 0, windowMs: 0 };
          pods.set(`${ns}/${pod}`, entry);
          if (!u) {
            entry.ok = false;
            continue;
          }
          entry.containers.push({ name: container, cpuNanoCores: u.cpuNanoCores, memoryBytes: u.memoryBytes });
          entry.timestamp = Math.max(entry.timestamp, u.timestamp);
          entry.windowMs = Math.max(entry.windowMs, u.windowMs);
        }
        // A pod is reported only when all of its containers are, as metrics-server does.
        for (const [k, e] of pods) if (e.ok && e.containers.length) podUsage.set(k, { node: name, timestamp: e.timestamp, windowMs: e.windowMs, containers: e.containers });
      }),
    );
    for (const name of this.points.keys()) if (!nodes.some((n) => n.metadata?.name === name)) this.points.delete(name);
    for (const name of this.attempts.keys()) if (!nodes.some((n) => n.metadata?.name === name)) this.attempts.delete(name);
    this.nodeUsage = nodeUsage;
    this.podUsage = podUsage;
  }

  private fetch(endpoint: NodeEndpoint): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = agentRequest(this.o.kubeletClient, endpoint, { path: '/metrics/resource', method: 'GET', timeout: SCRAPE_TIMEOUT_MS, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          if ((res.statusCode ?? 500) >= 300) reject(new Error(`agent answered ${res.statusCode}: ${body.trim()}`));
          else resolve(body);
        });
        res.on('error', reject);
      }, reject);
      req.on('timeout', () => req.destroy(new Error(`no answer within ${SCRAPE_TIMEOUT_MS / 1000}s`)));
      req.end();
    });
  }
}
