// The command that joins another node to this cluster, kubeadm-style:
// `tug agent --server URL --token T --discovery-token-ca-cert-hash sha256:H`.
// It names a bearer token, so it goes to DATA_DIR/join-command (0600) and the
// server's log shows it with the token left out.
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';

export interface JoinCommand {
  /** DATA_DIR/join-command, holding the full command. */
  path: string;
  /** The command with <token> in place of the token, for logs. */
  redacted: string;
}

export async function writeJoinCommand(dataDir: string, serverUrl: string, token: string, caCertHash: string): Promise<JoinCommand> {
  const line = (t: string) => `tug agent --server ${serverUrl} --token ${t} --discovery-token-ca-cert-hash ${caCertHash}`;
  const path = join(dataDir, 'join-command');
  await writeFileAtomic(path, `${line(token)}\n`, 0o600);
  return { path, redacted: line('<token>') };
}
