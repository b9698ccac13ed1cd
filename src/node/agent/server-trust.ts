// How a `tug agent` trusts its API server: exactly one way, chosen on the
// command line (a kubeconfig's CA, a pinned CA hash, a CA file, or, told so,
// none), and the CA that way yields before any secret is sent. Shared by the
// agent (run-agent.ts) and its early Lease renewal (node/early-lease.ts),
// which loads only modules built on node: built-ins: keep it that way.
import { readFile } from 'node:fs/promises';
import { invalid, isKind } from '../../errdefs.js';
import { caCertHash, discoverPinnedCa, parseCaCertHash } from '../../kube/client/ca-pin.js';
import type { AgentFlags } from './agent-flags.js';

/** How a --token agent trusts the API server: exactly one way, chosen on the command line. */
export type ServerTrust = { kind: 'kubeconfig' } | { kind: 'pinned'; pins: string[]; caFile?: string } | { kind: 'ca-file'; caFile: string } | { kind: 'unverified' };

export function serverTrust(v: { kubeconfig?: string; 'ca-file'?: string; 'discovery-token-ca-cert-hash'?: string[]; 'discovery-token-unsafe-skip-ca-verification'?: boolean }): ServerTrust {
  const pins = (v['discovery-token-ca-cert-hash'] ?? []).map(parseCaCertHash);
  const skip = v['discovery-token-unsafe-skip-ca-verification'] === true;
  if (v.kubeconfig) {
    if (pins.length || skip || v['ca-file']) throw invalid('--kubeconfig names its own server CA: --discovery-token-ca-cert-hash, --discovery-token-unsafe-skip-ca-verification and --ca-file go with --token');
    return { kind: 'kubeconfig' };
  }
  if (skip && (pins.length || v['ca-file'])) throw invalid('--discovery-token-unsafe-skip-ca-verification contradicts --discovery-token-ca-cert-hash and --ca-file: give one way to trust the server');
  if (pins.length) return { kind: 'pinned', pins, caFile: v['ca-file'] };
  if (v['ca-file']) return { kind: 'ca-file', caFile: v['ca-file'] };
  if (skip) return { kind: 'unverified' };
  throw invalid(
    'refusing to send the token to a server whose certificate is not verified: give --discovery-token-ca-cert-hash sha256:<hex> ' +
      '(tug server prints it; the whole join command is in its DATA_DIR/join-command), or --ca-file FILE, ' +
      'or --discovery-token-unsafe-skip-ca-verification to trust any server',
  );
}

/** The CA a --token agent verifies the server with, as `trust` says (undefined: not verified), before the token is ever sent. */
export async function trustedServerCa(servers: string[], trust: ServerTrust): Promise<string | undefined> {
  const caFile = trust.kind === 'pinned' || trust.kind === 'ca-file' ? trust.caFile : undefined;
  const fileCa = caFile ? await readFile(caFile, 'utf8').catch((err: Error) => Promise.reject(invalid(`--ca-file ${caFile}: ${err.message}`))) : undefined;
  if (trust.kind === 'pinned') {
    if (fileCa) {
      const hash = caCertHash(fileCa);
      if (!trust.pins.includes(hash)) throw invalid(`--ca-file ${caFile}: its hash ${hash} does not match --discovery-token-ca-cert-hash ${trust.pins.join(', ')}`);
      return fileCa;
    }
    return firstAnswer(servers, (s) => discoverPinnedCa(s, trust.pins));
  }
  return fileCa;
}

/** The first server that answers (a refusal such as a CA mismatch is final, not a reason to ask the next one). */
export async function firstAnswer<T>(servers: string[], fn: (server: string) => Promise<T>): Promise<T> {
  for (const [i, s] of servers.entries()) {
    try {
      return await fn(s);
    } catch (err) {
      if (i === servers.length - 1 || !isKind(err, 'unavailable')) throw err;
    }
  }
  throw invalid('no --server given');
}

/** The agent's trust: as its flags say; without any (no token either), an agent that joined before uses the CA kept beside its certificate. */
export function agentTrust(v: AgentFlags): ServerTrust {
  return v.token || v.kubeconfig || v['discovery-token-ca-cert-hash']?.length || v['ca-file'] ? serverTrust(v) : { kind: 'kubeconfig' };
}
