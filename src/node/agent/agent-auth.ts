// Who may use a node agent's streaming endpoint, decided as the kubelet does
// with x509 and webhook authentication and webhook authorization: a client
// certificate the cluster CA signed (the TLS server verified it; the API
// server presents its kubelet-client one) names the user by its CN and
// groups by its O; otherwise the caller's bearer token (a ServiceAccount's,
// as Prometheus scrapes kubelets) is checked with a TokenReview. The user is then checked with a
// SubjectAccessReview for `nodes/proxy` on this node (`nodes/stats` for
// /stats/*, `nodes/metrics` for /metrics/*, as the kubelet maps its paths), both through the API
// server. Answers are cached briefly (by a hash of the token; decisions per
// user and verb) so a busy `kubectl logs -f` loop does not cost two API
// round trips per request, while a revoked token or role stops working soon.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createHash } from 'node:crypto';
import { TugError } from '../../errdefs.js';
import type { KubeClient } from '../../kube/client/kube-client.js';

interface Reviewed<T> {
  value: T;
  expires: number;
}

interface ReviewedUser {
  username: string;
  uid?: string;
  groups: string[];
}

export interface AgentAuthOptions {
  client: KubeClient;
  nodeName: string;
  /** How long an authenticated token is trusted without asking again (the kubelet's default: 2 minutes). */
  authnTtlMs?: number;
  /** How long an allow / a deny decision is kept (the kubelet's defaults: 5 minutes / 30 seconds). */
  allowTtlMs?: number;
  denyTtlMs?: number;
}

const MAX_ENTRIES = 1024;

/** HTTP method → authorization verb, as the kubelet maps them (an upgrade is a GET, so exec/attach need `get`). */
function verbOf(method: string | undefined): string {
  switch (method) {
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return 'get';
  }
}

/** The kubelet's path -> nodes subresource mapping: stats and metrics have their own, everything else is proxy. */
export function subresourceOf(url: string | undefined): string {
  const path = new URL(url ?? '/', 'http://x').pathname;
  if (path === '/stats' || path.startsWith('/stats/')) return 'stats';
  if (path === '/metrics' || path.startsWith('/metrics/')) return 'metrics';
  return 'proxy';
}

function remember<T>(cache: Map<string, Reviewed<T>>, key: string, value: T, ttlMs: number): void {
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  cache.set(key, { value, expires: Date.now() + ttlMs });
}

function recall<T>(cache: Map<string, Reviewed<T>>, key: string): T | undefined {
  const hit = cache.get(key);
  if (!hit) return undefined;
  if (hit.expires > Date.now()) return hit.value;
  cache.delete(key);
  return undefined;
}

/** The user of a verified client certificate (CN, and O as groups), as Kubernetes' x509 authenticator; null without one. */
function certificateUser(req: IncomingMessage): ReviewedUser | null {
  const socket = req.socket as Partial<TLSSocket>;
  // Unverified certificates never get here: the server drops their connections (agent-server.ts).
  if (!socket.authorized || !socket.getPeerCertificate) return null;
  const subject = socket.getPeerCertificate().subject as Record<string, string | string[] | undefined> | undefined;
  const cn = subject?.CN;
  if (typeof cn !== 'string' || !cn) return null;
  const o = subject?.O;
  return { username: cn, groups: [...(Array.isArray(o) ? o : o ? [o] : []), 'system:authenticated'] };
}

export class AgentAuth {
  private readonly users = new Map<string, Reviewed<ReviewedUser | null>>();
  private readonly decisions = new Map<string, Reviewed<boolean>>();

  constructor(private readonly o: AgentAuthOptions) {}

  get nodeName(): string {
    return this.o.nodeName;
  }

  /** Resolves when the request may proceed; throws unauthorized (401) or forbidden (403). */
  async check(req: IncomingMessage): Promise<void> {
    const auth = req.headers.authorization;
    const user = certificateUser(req) ?? (auth?.startsWith('Bearer ') ? await this.authenticate(auth.slice(7).trim()) : null);
    if (!user) throw new TugError('unauthorized', 'Unauthorized');
    const verb = verbOf(req.method);
    const subresource = subresourceOf(req.url);
    if (!(await this.authorize(user, verb, subresource))) {
      throw new TugError('forbidden', `Forbidden (user=${user.username}, verb=${verb}, resource=nodes, subresource(s)=[${subresource}])`);
    }
  }

  private async authenticate(token: string): Promise<ReviewedUser | null> {
    const key = createHash('sha256').update(token).digest('hex');
    const cached = recall(this.users, key);
    if (cached !== undefined) return cached;
    const review = await this.o.client.create<{ status?: { authenticated?: boolean; user?: ReviewedUser } }>(
      { group: 'authentication.k8s.io', version: 'v1', resource: 'tokenreviews' },
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    );
    const user = review.status?.authenticated && review.status.user?.username ? { username: review.status.user.username, uid: review.status.user.uid, groups: review.status.user.groups ?? [] } : null;
    // A refused token is asked about again sooner: it may be one just issued.
    remember(this.users, key, user, user ? (this.o.authnTtlMs ?? 120_000) : (this.o.denyTtlMs ?? 30_000));
    return user;
  }

  private async authorize(user: ReviewedUser, verb: string, subresource: string): Promise<boolean> {
    const key = JSON.stringify([user.username, user.uid, [...user.groups].sort(), verb, subresource]);
    const cached = recall(this.decisions, key);
    if (cached !== undefined) return cached;
    const review = await this.o.client.create<{ status?: { allowed?: boolean } }>(
      { group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews' },
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: user.username, uid: user.uid, groups: user.groups, resourceAttributes: { verb, group: '', version: 'v1', resource: 'nodes', subresource, name: this.o.nodeName } },
      },
    );
    const allowed = review.status?.allowed === true;
    remember(this.decisions, key, allowed, allowed ? (this.o.allowTtlMs ?? 300_000) : (this.o.denyTtlMs ?? 30_000));
    return allowed;
  }
}
