// `tug server` on an existing data dir: objects, certificates and tokens
// survive a restart, and the kubeconfig follows the new port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, storeArgs } from './test-server.js';

test('state, CA and admin credentials survive a restart on the same data dir', async () => {
  // The same store both times (with etcd, the same key prefix).
  const store = storeArgs();
  const first = await startTestServer({ store });
  const dataDir = first.dataDir;
  try {
    await first.kubectl(['create', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: survivor, namespace: default}\ndata: {k: v}\n' });
    const uid = (await first.kubectl(['get', 'cm', 'survivor', '-o', 'jsonpath={.metadata.uid}'])).stdout;
    const ca = await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8');
    await first.stop({ keepData: true });
    const second = await startTestServer({ dataDir, store });
    try {
      assert.equal(await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8'), ca, 'the CA is reused');
      assert.equal((await second.kubectl(['get', 'cm', 'survivor', '-o', 'jsonpath={.metadata.uid}'])).stdout, uid);
      const ns = (await second.kubectl(['get', 'ns', '-o', 'name'])).stdout.split('\n').filter(Boolean).sort();
      assert.deepEqual(ns, ['namespace/default', 'namespace/kube-node-lease', 'namespace/kube-public', 'namespace/kube-system']);
      const svcs = (await second.kubectl(['get', 'svc', '-n', 'default', '-o', 'name'])).stdout.trim();
      assert.equal(svcs, 'service/kubernetes');
    } finally {
      await second.stop();
    }
  } finally {
    await first.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
