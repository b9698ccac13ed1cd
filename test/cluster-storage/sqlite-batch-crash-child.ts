// Child process for the SQLite group-commit crash test: keeps 64 creates in
// flight (so they share commits) and prints "key revision" for each one the
// store acknowledged, until it is killed.
import { openStore } from '../../src/apiserver/storage/open-store.js';

const [path] = process.argv.slice(2);
const store = await openStore({ kind: 'sqlite', path });
let next = 0;
async function writer(): Promise<void> {
  for (;;) {
    const key = `/registry/pods/batch/p-${next++}`;
    const kv = await store.create(key, JSON.stringify({ metadata: { name: key } }));
    process.stdout.write(`${key} ${kv.modRevision}\n`);
  }
}
await Promise.all(Array.from({ length: 64 }, writer));
