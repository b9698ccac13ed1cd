// Child process for the SQLite cross-process test: opens the same database file
// and increments a counter N times with retry on conflict, then prints "done".
import { openStore } from '../../src/apiserver/storage/open-store.js';
import { isKind } from '../../src/errdefs.js';

const [path, key, countArg] = process.argv.slice(2);
const store = await openStore({ kind: 'sqlite', path });
for (let i = 0; i < Number(countArg); i++) {
  for (;;) {
    const kv = (await store.get(key))!;
    try {
      await store.update(key, JSON.stringify({ n: (JSON.parse(kv.value) as { n: number }).n + 1 }), kv.modRevision);
      break;
    } catch (err) {
      if (!isKind(err, 'conflict')) throw err;
    }
    // Let the other process in: the store is synchronous, so yield between attempts.
    await new Promise((r) => setImmediate(r));
  }
}
await store.close();
process.stdout.write('done\n');
