// User-defined network records on disk: one JSON file per network under
// <root>/network/networks/<id>.json, written atomically (temp + fsync +
// rename), so a crash or kill -9 leaves each network either fully recorded or
// absent. The in-memory map is the engine's view; the files are the truth.
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic-file.js';
import type { NetworkRecord } from './network-record.js';

export class NetworkStore {
  private readonly byId = new Map<string, NetworkRecord>();

  private constructor(private readonly dir: string) {}

  static async open(networkStateDir: string): Promise<NetworkStore> {
    const store = new NetworkStore(join(networkStateDir, 'networks'));
    let files: string[] = [];
    try {
      files = await readdir(store.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const f of files) {
      if (!f.endsWith('.json') || f.startsWith('.')) continue;
      const rec = JSON.parse(await readFile(join(store.dir, f), 'utf8')) as NetworkRecord;
      store.byId.set(rec.Id, rec);
    }
    return store;
  }

  all(): NetworkRecord[] {
    return [...this.byId.values()].sort((a, b) => Date.parse(a.Created) - Date.parse(b.Created));
  }

  get(id: string): NetworkRecord | undefined {
    return this.byId.get(id);
  }

  async save(rec: NetworkRecord): Promise<void> {
    await writeJsonAtomic(join(this.dir, `${rec.Id}.json`), rec);
    this.byId.set(rec.Id, rec);
  }

  async remove(id: string): Promise<void> {
    await rm(join(this.dir, `${id}.json`), { force: true });
    this.byId.delete(id);
  }
}
