// The garbage collector is level-triggered: a dependent left dangling while
// the server was down is collected once it is back.
//
// How the owner goes away with no server running: the test opens the server's
// own store (state.db, or the same etcd prefix) through the storage layer the
// server uses, and deletes the owner's key. That is what happens when the owner
// is deleted by another API server sharing the etcd while this one is down, or
// by an operator with etcdctl: the write never passes through this process, so
// only a controller that lists what is there on start (not one that waits to be
// told about a deletion) can notice the dependent's owner is gone. A second
// dependent whose owner is still there must survive, so the collector is not
// simply deleting everything that has an owner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, storeArgs } from './test-server.js';
import { openStore } from '../../src/apiserver/storage/open-store.js';
import type { Store } from '../../src/apiserver/storage/store.js';

async function openServerStore(dataDir: string, args: string[]): Promise<Store> {
  const flag = (name: string) => args[args.indexOf(name) + 1];
  if (flag('--store') === 'etcd') return openStore({ kind: 'etcd', endpoints: flag('--etcd-endpoints').split(','), prefix: flag('--etcd-prefix') });
  return openStore({ kind: 'sqlite', path: join(dataDir, 'state.db') });
}

const cm = (name: string, owner?: { name: string; uid: string }) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: default\n${owner ? `  ownerReferences:\n  - {apiVersion: v1, kind: ConfigMap, name: ${owner.name}, uid: ${owner.uid}}\n` : ''}data: {k: v}\n`;

test('a dependent whose owner was deleted while the server was stopped is collected after the restart', async () => {
  const store = storeArgs();
  const first = await startTestServer({ store });
  const dataDir = first.dataDir;
  try {
    await first.kubectl(['create', '-f', '-'], { input: `${cm('owner-gone')}---\n${cm('owner-kept')}` });
    const uid = async (name: string) => (await first.kubectl(['get', 'cm', name, '-o', 'jsonpath={.metadata.uid}'])).stdout;
    const goneUid = await uid('owner-gone');
    const keptUid = await uid('owner-kept');
    await first.kubectl(['create', '-f', '-'], { input: `${cm('orphaned-child', { name: 'owner-gone', uid: goneUid })}---\n${cm('kept-child', { name: 'owner-kept', uid: keptUid })}` });
    await first.stop({ keepData: true });

    const direct = await openServerStore(dataDir, store);
    try {
      await direct.delete('/registry/configmaps/default/owner-gone');
      assert.equal(await direct.get('/registry/configmaps/default/owner-gone'), null);
      assert.ok(await direct.get('/registry/configmaps/default/orphaned-child'), 'the dependent is still stored while no server runs');
    } finally {
      await direct.close();
    }

    const second = await startTestServer({ dataDir, store });
    try {
      // Watch the dependent until it is deleted (kubectl wait exits 0 once it is gone).
      await second.kubectl(['wait', '--for=delete', 'cm/orphaned-child', '-n', 'default', '--timeout=60s']);
      const left = await second.kubectl(['get', 'cm', 'orphaned-child', '-n', 'default'], { allowFailure: true });
      assert.match(left.stderr, /NotFound/);
      assert.equal((await second.kubectl(['get', 'cm', 'kept-child', '-n', 'default', '-o', 'jsonpath={.metadata.ownerReferences[0].uid}'])).stdout, keptUid, 'a dependent whose owner exists stays');
    } finally {
      await second.stop();
    }
  } finally {
    await first.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
