// The command that joins another node to this cluster, kubeadm-style:
// `tug agent --server URL --token T --discovery-token-ca-cert-hash sha256:H`,
// where T is a bootstrap token (kube/api/bootstrap-token.ts) the server makes
// at its first start (24 h, as kubeadm init's) and makes again when a restart
// finds it expired or deleted; `tug token create` makes more. It names a
// secret, so it goes to DATA_DIR/join-command (0600) and the server's log
// shows it with the token left out.
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { ObjectStore } from './object-store.js';
import { bootstrapTokenSecret, isTokenExpired, parseBootstrapToken, randomBootstrapToken, tokenSecretField } from '../kube/api/bootstrap-token.js';

export interface JoinCommand {
  /** DATA_DIR/join-command, holding the full command. */
  path: string;
  /** The command with <token> in place of the token, for logs. */
  redacted: string;
  /** The bootstrap token it carries. */
  token: string;
}

/** The token of DATA_DIR/join-command while its Secret still authenticates; otherwise a new one (its Secret created). */
export async function joinToken(objects: ObjectStore, dataDir: string): Promise<string> {
  const secretType = objects.registry.lookup('', 'v1', 'secrets')!;
  const old = (await readFile(join(dataDir, 'join-command'), 'utf8').catch(() => '')).match(/--token (\S+)/)?.[1];
  const parsed = old ? parseBootstrapToken(old) : undefined;
  if (parsed) {
    const secret = await objects.getOrNull(secretType, 'kube-system', `bootstrap-token-${parsed.id}`);
    if (secret && tokenSecretField(secret, 'token-secret') === parsed.secret && !isTokenExpired(secret, Date.now() + 60_000)) return old!;
  }
  const t = randomBootstrapToken();
  await objects.create(secretType, 'kube-system', bootstrapTokenSecret(t, { description: 'The join command of tug server (DATA_DIR/join-command)' }), { fieldManager: 'tug-apiserver' });
  return `${t.id}.${t.secret}`;
}

export async function writeJoinCommand(dataDir: string, serverUrl: string, token: string, caCertHash: string): Promise<JoinCommand> {
  const line = (t: string) => `tug agent --server ${serverUrl} --token ${t} --discovery-token-ca-cert-hash ${caCertHash}`;
  const path = join(dataDir, 'join-command');
  await writeFileAtomic(path, `${line(token)}\n`, 0o600);
  return { path, redacted: line('<token>'), token };
}
