// Child process for the SQLite crash test: writes one update after another and
// prints each acknowledged revision, until it is killed.
import { openStore } from '../../src/apiserver/storage/open-store.js';

const [path, key] = process.argv.slice(2);
const store = await openStore({ kind: 'sqlite', path });
let kv = (await store.get(key)) ?? (await store.create(key, JSON.stringify({ n: 0 })));
for (let n = 1; ; n++) {
  kv = await store.update(key, JSON.stringify({ n }), kv.modRevision);
  process.stdout.write(`${kv.modRevision} ${n}\n`);
}
