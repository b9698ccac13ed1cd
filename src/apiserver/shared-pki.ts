// Servers that share one etcd must trust the same clients: one cluster CA, one
// ServiceAccount signing key and one admin token. The first server to start
// publishes its CA key, SA key and token file in the store (like kubeadm's
// uploaded certs, plain in etcd as Kubernetes Secrets are); later servers
// adopt them before ensurePki, which then signs their own serving cert with
// the shared CA. Each server keeps its own serving/admin cert files.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isKind } from '../errdefs.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { ensureDir } from '../util/dir-mode.js';
import type { Store } from './storage/store.js';
import { ensurePki, type Pki } from './pki.js';

/** Outside /registry/, so no object list or watch ever sees it. */
const SHARED_PKI_KEY = '/tug/pki/shared';

interface SharedPki {
  caCert: string;
  caKey: string;
  saKey: string;
  tokens: string;
}

const readOrEmpty = (p: string) => readFile(p, 'utf8').catch(() => '');

/** Writes the shared material into DATA/pki; certs signed by another CA are removed so ensurePki re-signs them. */
async function adopt(dataDir: string, shared: SharedPki): Promise<void> {
  const dir = join(dataDir, 'pki');
  await ensureDir(dir, 0o700);
  if ((await readOrEmpty(join(dir, 'ca.crt'))) !== shared.caCert) {
    await Promise.all(['apiserver.crt', 'apiserver.key', 'admin.crt', 'admin.key', 'apiserver-kubelet-client.crt', 'apiserver-kubelet-client.key'].map((f) => rm(join(dir, f), { force: true })));
    await writeFileAtomic(join(dir, 'ca.key'), shared.caKey, 0o600);
    await writeFileAtomic(join(dir, 'ca.crt'), shared.caCert, 0o644);
  }
  if ((await readOrEmpty(join(dir, 'sa.key'))) !== shared.saKey) await writeFileAtomic(join(dir, 'sa.key'), shared.saKey, 0o600);
  if ((await readOrEmpty(join(dataDir, 'tokens.csv'))) !== shared.tokens) await writeFileAtomic(join(dataDir, 'tokens.csv'), shared.tokens, 0o600);
}

/** ensurePki, but with the cluster-wide parts taken from (or first published to) the store. */
export async function ensureSharedPki(store: Store, dataDir: string, bindAddress: string): Promise<Pki> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await store.get(SHARED_PKI_KEY);
    if (existing) {
      await adopt(dataDir, JSON.parse(existing.value) as SharedPki);
      return ensurePki(dataDir, bindAddress);
    }
    const pki = await ensurePki(dataDir, bindAddress);
    const shared: SharedPki = { caCert: pki.caCert, caKey: await readFile(join(pki.dir, 'ca.key'), 'utf8'), saKey: pki.serviceAccountKey, tokens: await readFile(pki.tokenFile, 'utf8') };
    try {
      await store.create(SHARED_PKI_KEY, JSON.stringify(shared));
      return pki;
    } catch (err) {
      // Another server published first: loop and adopt its material.
      if (!isKind(err, 'already-exists')) throw err;
    }
  }
  throw new Error('could not agree on the shared cluster PKI in the store');
}
