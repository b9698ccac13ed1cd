// What a parsed kubeconfig connects with: its current context's cluster and
// user (inline *-data fields or file paths). The parsing is the caller's:
// KubeClient uses the yaml package; the agent's early Lease renewal
// (node/early-lease.ts), which loads only node: built-ins, its plain-YAML
// reader (util/block-yaml.ts). Both then read the same fields here.
import { readFile } from 'node:fs/promises';
import { TugError } from '../../errdefs.js';
import type { KubeClientOptions } from './kube-client.js';

export async function kubeconfigOptions(parsed: unknown, path: string): Promise<KubeClientOptions> {
  const cfg = (parsed ?? {}) as any;
  const ctx = cfg.contexts?.find((c: { name: string }) => c.name === cfg['current-context'])?.context ?? cfg.contexts?.[0]?.context;
  const cluster = cfg.clusters?.find((c: { name: string }) => c.name === ctx?.cluster)?.cluster;
  const user = cfg.users?.find((u: { name: string }) => u.name === ctx?.user)?.user ?? {};
  if (!cluster?.server) throw new TugError('invalid', `kubeconfig ${path}: the current context names no cluster server`);
  const field = async (data?: string, file?: string): Promise<string | undefined> => (data ? Buffer.from(data, 'base64').toString() : file ? readFile(file, 'utf8') : undefined);
  return {
    server: cluster.server,
    ca: await field(cluster['certificate-authority-data'], cluster['certificate-authority']),
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    cert: await field(user['client-certificate-data'], user['client-certificate']),
    key: await field(user['client-key-data'], user['client-key']),
    token: user.token,
  };
}
