// A node's identity, so that two machines cannot be one Node (k3s's node
// password): the agent keeps a random secret in its data dir; the cluster keeps
// its hash in the Secret kube-system/<node>.node-password.tug, made when the
// node first registers and owned by the Node (deleting the Node frees the
// name). An agent whose secret does not match an existing Node's is refused;
// the same agent restarting (same data dir) matches and is accepted.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid, isKind } from '../../errdefs.js';
import type { KubeClient, KubeObject } from '../../kube/client/kube-client.js';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { nodesRef } from './heartbeat-writes.js';

const secretsRef = { group: '', version: 'v1', resource: 'secrets', namespace: 'kube-system' };

export { nodePasswordSecretName } from '../../kube/api/node-identity.js';
import { nodePasswordSecretName } from '../../kube/api/node-identity.js';

/** The agent's secret as kept in DATA_DIR/node-password ('' when there is none: the agent never started there). */
export async function readNodePassword(dataDir: string): Promise<string> {
  return (await readFile(join(dataDir, 'node-password'), 'utf8').catch(() => '')).trim();
}

/** The agent's secret: DATA_DIR/node-password, made (0600) on first use. */
export async function loadNodePassword(dataDir: string): Promise<string> {
  const path = join(dataDir, 'node-password');
  const cur = await readNodePassword(dataDir);
  if (cur) return cur;
  const fresh = randomBytes(32).toString('hex');
  await writeFileAtomic(path, `${fresh}\n`, 0o600);
  return fresh;
}

const hashOf = (password: string): string => createHash('sha256').update(password).digest('hex');

/** Whether the cluster's node password Secret holds the hash of `password` (this agent's). */
export function passwordMatches(secret: KubeObject, password: string): boolean {
  const stored = Buffer.from(String((secret.data as { hash?: string } | undefined)?.hash ?? ''), 'base64');
  const mine = Buffer.from(hashOf(password));
  return stored.length === mine.length && timingSafeEqual(stored, mine);
}

function refusal(node: string, dataDir: string): Error {
  return invalid(
    `node "${node}" is already registered by another agent: its node password does not match ${join(dataDir, 'node-password')} ` +
      `(two machines may not share a node name). Give this agent its own --node-name, or, if the old node "${node}" is gone for good, ` +
      `delete it first (kubectl delete node ${node}) and start this agent again`,
  );
}

/** Claims the node name for this agent's password before it registers; throws (nothing registered) if another agent holds it. */
export async function claimNodeName(client: KubeClient, node: string, dataDir: string): Promise<void> {
  const password = await loadNodePassword(dataDir);
  const name = nodePasswordSecretName(node);
  const body = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'kube-system', labels: { 'tug.dev/node-password': node } },
    type: 'Opaque',
    data: { hash: Buffer.from(hashOf(password)).toString('base64') },
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    const cur = await client.getOrNull<KubeObject>(secretsRef, name);
    if (!cur) {
      try {
        await client.create(secretsRef, body);
        return;
      } catch (err) {
        if (isKind(err, 'already-exists')) continue;
        throw err;
      }
    }
    if (passwordMatches(cur, password)) return;
    // A leftover hash with no Node (its owner reference not set yet when the Node went) does not hold the name.
    if (await client.getOrNull(nodesRef, node)) throw refusal(node, dataDir);
    await client.update(secretsRef, { ...body, metadata: { ...body.metadata, resourceVersion: cur.metadata.resourceVersion } } as KubeObject);
    return;
  }
  throw refusal(node, dataDir);
}

/** After registering: the hash belongs to the Node, so `kubectl delete node` frees the name. */
export async function ownNodePassword(client: KubeClient, node: KubeObject): Promise<void> {
  const owner = { apiVersion: 'v1', kind: 'Node', name: node.metadata.name, uid: node.metadata.uid };
  await client.patch(secretsRef, nodePasswordSecretName(node.metadata.name!), { metadata: { ownerReferences: [owner] } }, { patchType: 'merge' }).catch((err) => {
    if (!isKind(err, 'not-found')) throw err;
  });
}
