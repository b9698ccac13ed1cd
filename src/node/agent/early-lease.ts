// The first thing a restarting `tug agent` does, before bin/tug loads the CLI
// and the agent's modules (up to seconds on a loaded machine): one renewal of
// its node Lease, and, if the node lifecycle controller marked the Node
// Unknown meanwhile, Ready again (as the agent's own early step, readyAgain,
// does), so that an agent restart is not a heartbeat gap of a whole Node
// start. Bundled apart (scripts/build-cli-bundle.mjs) from modules built on
// node: built-ins only, so it loads in milliseconds. After that renewal a
// worker thread goes on renewing the Lease while the main thread loads the
// agent (a synchronous require: no renewal could run there), until the agent's
// own NodeLease takes over: one renewal alone buys only the grace period
// (2 s), and the loading takes longer than that under load. Its renewals keep
// the Lease's duration as it is: after a clean stop that is the stopped
// agent's hold (--restart-hold-seconds), so a renewer thread starved for
// seconds on a loaded machine does not turn the node Unknown either; the
// agent's own first renewal puts the usual duration back.
//
// It finds what the agent will use, through the agent's own code: its flags
// (agent-flags.ts), its credentials (--kubeconfig, a static --token with the
// server verified as the flags say, or the node certificate kept in
// DATA_DIR/node.kubeconfig), every --server in turn, and its node name; it
// renews only a Lease that exists, for an agent that has run in this data dir
// before (DATA_DIR/node-password) and whose password the cluster holds for
// this node name (the agent's first check at start, node-identity.ts). The
// server is verified exactly as the agent verifies it; a connection that
// would not be verified (--discovery-token-unsafe-skip-ca-verification, a
// kubeconfig's insecure-skip-tls-verify) is not made. It writes nothing
// locally. Whatever goes wrong (a first start, no credentials yet, a server
// down, a wrong CA, a kubeconfig in YAML its small reader does not take) ends
// it quietly, and the agent starts as it always did, saying what is wrong
// itself; the main thread waits for the server EARLY_RENEWAL_BUDGET_MS at a
// time, EARLY_RENEWAL_MAX_WAIT_MS in all. TUG_TRACE shows what it did and why not; TUG_EARLY_LEASE_BUDGET_MS=N
// waits N ms instead (tests that check what it does, not how fast, on a
// machine of any load).
import { Agent, request } from 'node:https';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { messageOf, TugError } from '../../errdefs.js';
import type { KubeClientOptions, KubeObject, ResourceRef } from '../../kube/client/kube-client.js';
import { resourcePath } from '../../kube/client/resource-path.js';
import { kubeconfigOptions } from '../../kube/client/kubeconfig.js';
import { nodePasswordSecretName } from '../../kube/api/node-identity.js';
import { parseBlockYaml } from '../../util/block-yaml.js';
import { positiveInt } from '../../util/duration-flag.js';
import { agentNodeName, agentServers, credentialSource, parseAgentFlags, type AgentFlags } from './agent-flags.js';
import { agentTrust, trustedServerCa } from './server-trust.js';
import { NODE_KUBECONFIG, usableNodeCredentials } from './kept-node-credentials.js';
import { passwordMatches, readNodePassword } from './node-identity.js';
import { DEFAULT_NODE_LEASE_DURATION_SECONDS, EARLY_RENEWER_STOP, readyAgain, renewLease } from './heartbeat-writes.js';
import { traceAgent } from './sync-trace.js';

/**
 * How long the early renewal waits for the server's next answer before it
 * leaves the rest to the renewer thread and lets the agent load: one TLS
 * handshake and three or four small requests take tens of milliseconds on a
 * quiet machine and a few hundred each at load 20 on two cores; a server
 * silent that long is hung or gone. Each answer starts the wait again, up to
 * EARLY_RENEWAL_MAX_WAIT_MS in all (a thread takes seconds to start at such a
 * load, so the main thread finishing the first renewal is faster).
 */
export const EARLY_RENEWAL_BUDGET_MS = 1500;
export const EARLY_RENEWAL_MAX_WAIT_MS = 4000;
/** The longest the early renewer keeps a Lease renewed for an agent that has not taken over: a start that hangs must not look alive for long. */
export const EARLY_RENEWER_MAX_MS = 30_000;

const secretsRef = { group: '', version: 'v1', resource: 'secrets', namespace: 'kube-system' };

class Skip extends Error {}
const skip = (why: string): never => {
  throw new Skip(why);
};

/** What a renewal did, for the trace (the renewer thread posts these to the main thread). */
type RenewerEvent = { kind: 'renewed'; at: number; resourceVersion?: string } | { kind: 'ready-again'; at: number } | { kind: 'skipped'; at: number; why: string } | { kind: 'stopped'; at: number; renewals: number; why: string };

const RENEWER = 'tug-early-lease-renewer';

/**
 * Renews the node Lease (and says Ready again if need be) here, waiting for
 * that at most the budget, then starts a worker thread that renews the Lease
 * every quarter of its duration while the main thread loads the agent's
 * modules (a synchronous require: seconds under load), until the agent's own
 * NodeLease takes over (takeOverEarlyRenewals) or for EARLY_RENEWER_MAX_MS at
 * most. The first renewal is made here, not in the thread: a thread takes
 * seconds to start on a loaded machine; one that did not finish within the
 * budget is made again by the thread. `renewerFile` is this bundle's path (the
 * thread runs it). Never rejects.
 */
export async function renewLeaseEarly(argv: string[], renewerFile: string): Promise<void> {
  const budgetMs = Number(process.env.TUG_EARLY_LEASE_BUDGET_MS) > 0 ? Number(process.env.TUG_EARLY_LEASE_BUDGET_MS) : EARLY_RENEWAL_BUDGET_MS;
  try {
    const plan = await earlyPlan(argv);
    const abort = new AbortController();
    // The budget is for the server's silence: each answer starts it again, up to EARLY_RENEWAL_MAX_WAIT_MS in all
    // (a loaded machine answers slowly but answers; a hung server is given up on within the budget).
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const api = new EarlyApi(plan.connect, abort.signal, () => {
      if (Date.now() - started + budgetMs <= Math.max(budgetMs, EARLY_RENEWAL_MAX_WAIT_MS)) timer?.refresh();
    });
    let done = false;
    try {
      await Promise.race([
        renew(api, plan, traceEvent).then(() => (done = true)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, budgetMs))),
      ]);
    } finally {
      clearTimeout(timer);
      abort.abort();
      api.close();
    }
    if (!done) traceAgent?.(`early: not done after ${Date.now() - started} ms (the server silent for ${budgetMs} ms); the renewer thread goes on`);
    keepRenewing(renewerFile, plan, done);
  } catch (err) {
    // Refused or unreachable (a wrong CA, a server down, no such Lease): nothing to go on with; the agent says why.
    traceAgent?.(`early: skipped: ${err instanceof Skip ? err.message : messageOf(err)}`);
  } finally {
    traceAgent?.('early: done');
  }
}

/** Trace lines are written by the main thread (from the thread's messages too), so its stderr keeps their order. */
function traceEvent(e: RenewerEvent): void {
  if (e.kind === 'renewed' && e.resourceVersion) traceAgent?.(`early: lease renewed (resourceVersion ${e.resourceVersion})`, e.at);
  else if (e.kind === 'renewed') traceAgent?.('early: lease renewed again (background)', e.at);
  else if (e.kind === 'ready-again') traceAgent?.('early: node Ready again', e.at);
  else if (e.kind === 'skipped') traceAgent?.(`early: background renewal skipped: ${e.why}`, e.at);
  else traceAgent?.(`early: background renewals stopped (${e.renewals}; ${e.why})`, e.at);
}

/** The renewer thread, which the agent stops when its own renewals begin; unref'd, so an agent that fails to start still exits. */
function keepRenewing(renewerFile: string, plan: EarlyPlan, firstDone: boolean): void {
  const worker = new Worker(renewerFile, { workerData: { kind: RENEWER, plan, firstDone } });
  worker.unref();
  worker.on('message', traceEvent);
  worker.once('error', (err) => traceAgent?.(`early: renewer thread failed: ${messageOf(err)}`));
  (globalThis as Record<symbol, unknown>)[EARLY_RENEWER_STOP] = () => void worker.terminate();
}

/** The renewer thread: the first renewal (with the node password check and Ready again) unless the main thread made it, then one every quarter of the duration. */
async function runRenewer(plan: EarlyPlan, firstDone: boolean, post: (e: RenewerEvent) => void): Promise<void> {
  const api = new EarlyApi(plan.connect, AbortSignal.timeout(EARLY_RENEWER_MAX_MS));
  let renewals = 0;
  try {
    if (!firstDone) {
      await renew(api, plan, post);
      renewals++;
    }
    const every = (plan.leaseDurationSeconds * 1000) / 4;
    const until = Date.now() + EARLY_RENEWER_MAX_MS;
    while (Date.now() + every < until) {
      await new Promise((r) => setTimeout(r, every));
      // A renewal that fails is tried again on the next tick, as NodeLease does.
      await renewLease(api, plan.nodeName).then(
        () => {
          renewals++;
          post({ kind: 'renewed', at: Date.now() });
        },
        () => undefined,
      );
    }
    post({ kind: 'stopped', at: Date.now(), renewals, why: `the agent did not take over within ${EARLY_RENEWER_MAX_MS / 1000} s` });
  } catch (err) {
    post(renewals || firstDone ? { kind: 'stopped', at: Date.now(), renewals, why: messageOf(err) } : { kind: 'skipped', at: Date.now(), why: err instanceof Skip ? err.message : messageOf(err) });
  } finally {
    api.close();
  }
}

interface EarlyPlan {
  nodeName: string;
  password: string;
  leaseDurationSeconds: number;
  connect: KubeClientOptions & { servers: string[] };
}

/** What the agent will connect with, found the agent's way; skips when that is not at hand without asking anyone. */
async function earlyPlan(argv: string[]): Promise<EarlyPlan> {
  let v: AgentFlags;
  try {
    v = parseAgentFlags(argv);
  } catch {
    return skip('flags the agent will refuse');
  }
  if (v.help) skip('--help');
  const servers = agentServers(v);
  if (!v.kubeconfig && !servers.length) skip('no --server or --kubeconfig');
  const trust = agentTrust(v);
  const leaseDurationSeconds = positiveInt(v['node-lease-duration-seconds'], '--node-lease-duration-seconds') ?? DEFAULT_NODE_LEASE_DURATION_SECONDS;
  const nodeName = agentNodeName(v);
  const dataDir = v['data-dir']!;
  // Written at the agent's first start: without it there is nothing to renew (and this step writes nothing).
  const password = await readNodePassword(dataDir);
  if (!password) skip(`no ${join(dataDir, 'node-password')}: a first start`);
  let opts: KubeClientOptions | undefined;
  switch (credentialSource(v)) {
    case 'kubeconfig':
      opts = await readKubeconfigPlain(v.kubeconfig!);
      break;
    case 'static-token':
      if (trust.kind === 'unverified') skip('the server is not verified (--discovery-token-unsafe-skip-ca-verification)');
      opts = { server: servers[0]!, servers, token: v.token, ca: await trustedServerCa(servers, trust) };
      break;
    case 'node-certificate':
      if (trust.kind === 'unverified') skip('the server is not verified (--discovery-token-unsafe-skip-ca-verification)');
      opts = usableNodeCredentials(await readKubeconfigPlain(join(dataDir, NODE_KUBECONFIG)), nodeName, trust.kind === 'pinned' ? trust.pins : undefined, servers[0]!, servers);
      if (!opts) skip(`no usable node certificate in ${join(dataDir, NODE_KUBECONFIG)}`);
      break;
  }
  if (!opts) return skip('no credentials');
  if (opts.insecureSkipTLSVerify) skip('the kubeconfig does not verify the server (insecure-skip-tls-verify)');
  return { nodeName, password, leaseDurationSeconds, connect: { ...opts, servers: [opts.server, ...(opts.servers ?? []).filter((s) => s !== opts.server)] } };
}

async function readKubeconfigPlain(path: string): Promise<KubeClientOptions> {
  const text = await readFile(path, 'utf8').catch(() => skip(`no ${path}`));
  const parsed = parseBlockYaml(text);
  if (parsed === undefined) skip(`${path} is YAML the early reader does not take`);
  return kubeconfigOptions(parsed, path);
}

async function renew(api: EarlyApi, plan: EarlyPlan, post: (e: RenewerEvent) => void): Promise<void> {
  // The agent's first check: this node name is this agent's (another machine's node is not kept alive by us).
  const secret = await api.get<KubeObject>(secretsRef, nodePasswordSecretName(plan.nodeName)).catch((err) => (err instanceof TugError && err.kind === 'not-found' ? skip('no node password Secret for this node') : Promise.reject(err)));
  if (!passwordMatches(secret, plan.password)) skip('the cluster holds another node password for this node name');
  const lease = await renewLease(api, plan.nodeName).catch((err) => (err instanceof TugError && err.kind === 'not-found' ? skip('no Lease for this node yet') : Promise.reject(err)));
  post({ kind: 'renewed', at: Date.now(), resourceVersion: lease.metadata.resourceVersion ?? '?' });
  if (await readyAgain(api, plan.nodeName, new Date().toISOString().replace(/\.\d+Z$/, 'Z'))) post({ kind: 'ready-again', at: Date.now() });
}

/** Connection failures where the request never reached the server: the next --server is tried, as KubeClient does. */
const notSent = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** get and patch over one kept-alive, verified connection (the KubeClient's TLS settings), nothing else. */
class EarlyApi {
  private readonly agent: Agent;
  private current = 0;

  constructor(
    private readonly o: KubeClientOptions & { servers: string[] },
    private readonly signal: AbortSignal,
    /** Called on each answer (the early step's budget is for silence). */
    private readonly answered: () => void = () => undefined,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 1, ca: o.ca, cert: o.cert, key: o.key, rejectUnauthorized: true });
  }

  get<T = KubeObject>(ref: ResourceRef, name: string): Promise<T> {
    return this.json<T>('GET', resourcePath(ref, name));
  }

  patch<T = KubeObject>(ref: ResourceRef, name: string, patch: unknown, opts: { subresource?: 'status'; patchType?: 'merge' | 'strategic' | 'json' } = {}): Promise<T> {
    const ct = { merge: 'application/merge-patch+json', strategic: 'application/strategic-merge-patch+json', json: 'application/json-patch+json' }[opts.patchType ?? 'merge'];
    return this.json<T>('PATCH', resourcePath(ref, name, opts.subresource), JSON.stringify(patch), ct);
  }

  close(): void {
    this.agent.destroy();
  }

  private async json<T>(method: string, path: string, body?: string, contentType?: string): Promise<T> {
    for (;;) {
      try {
        return await this.send<T>(this.o.servers[this.current]!, method, path, body, contentType);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (!notSent.has(code) || this.current === this.o.servers.length - 1) throw err;
        this.current++;
      }
    }
  }

  private send<T>(server: string, method: string, path: string, body?: string, contentType?: string): Promise<T> {
    const base = new URL(server);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.o.token) headers.authorization = `Bearer ${this.o.token}`;
    if (body !== undefined) {
      headers['content-type'] = contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    return new Promise<T>((resolve, reject) => {
      const req = request({ host: base.hostname, port: base.port || 443, path, method, headers, agent: this.agent, signal: this.signal }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', reject);
        res.once('end', () => {
          this.answered();
          const text = Buffer.concat(chunks).toString();
          const status = res.statusCode ?? 500;
          if (status < 400) {
            resolve((text ? JSON.parse(text) : {}) as T);
            return;
          }
          let msg = text;
          try {
            msg = (JSON.parse(text) as { message?: string }).message ?? text;
          } catch {
            /* not a Status object */
          }
          reject(new TugError(status === 404 ? 'not-found' : 'unavailable', `${method} ${path}: ${status} ${msg}`));
        });
      });
      req.once('error', reject);
      req.end(body);
    });
  }
}

// In the renewer thread (this same file, run by renewLeaseEarly), once everything above is defined.
if (!isMainThread && (workerData as { kind?: string } | null)?.kind === RENEWER) {
  const port = parentPort!;
  const d = workerData as { plan: EarlyPlan; firstDone: boolean };
  void runRenewer(d.plan, d.firstDone, (e) => port.postMessage(e));
}
