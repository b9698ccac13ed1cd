// Opens the Store a server was told to use. Apart from the Store contract
// (store.ts), which the backends implement, so the contract never imports them.
import type { Store } from './store.js';

export type OpenStoreOptions = { kind: 'sqlite'; path: string } | { kind: 'etcd'; endpoints: string[]; prefix?: string };

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  // Backends are loaded on demand so a SQLite server never loads the etcd client and vice versa.
  if (opts.kind === 'sqlite') {
    const { openSqliteStore } = await import('./sqlite/sqlite-store.js');
    return openSqliteStore({ path: opts.path });
  }
  const { openEtcdStore } = await import('./etcd/etcd-store.js');
  return openEtcdStore({ endpoints: opts.endpoints, prefix: opts.prefix });
}
