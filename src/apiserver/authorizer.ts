// Who may do what, as kube-apiserver's --authorization-mode=Node,RBAC: each
// authorizer allows a request or has no opinion, and the first to allow wins;
// a request none allows is refused (403). The Node authorizer answers for
// node agents (node-authorizer.ts), RBAC for everyone (rbac.ts).
import type { UserInfo } from './user-info.js';

export interface Attributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** Set for non-resource requests (/healthz, /api, /openapi/v2...). */
  path?: string;
}

/** allowed false is "no opinion": the next authorizer is asked. reason says who allowed, or why not. */
export interface Decision {
  allowed: boolean;
  reason: string;
}

export interface Authorizer {
  authorize(u: UserInfo, a: Attributes): Promise<Decision>;
}

/** Asks each in turn; the first that allows wins, else the last non-empty reason is reported. */
export class UnionAuthorizer implements Authorizer {
  private readonly chain: Authorizer[];

  constructor(...chain: Authorizer[]) {
    this.chain = chain;
  }

  async authorize(u: UserInfo, a: Attributes): Promise<Decision> {
    let reason = '';
    for (const az of this.chain) {
      const d = await az.authorize(u, a);
      if (d.allowed) return d;
      if (d.reason) reason = d.reason;
    }
    return { allowed: false, reason };
  }
}
