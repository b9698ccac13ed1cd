// Container records: one JSON file per container under <root>/containers/<id>/,
// written atomically on every change, held in memory for fast lookup.
// Modes are Docker's: containers/ and each container's dir 0710, the record
// (environment, passwords included) 0600; open() also tightens the state of
// an older tug, which made them 0755 and 0644.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic-file.js';
import { chmodIfExists, ensureDir } from '../util/dir-mode.js';
import { notFound, invalid } from '../errdefs.js';
import type { ContainerRecord } from './container-record.js';

/** containers/ and containers/<id>/: root and its group may pass through, nobody else (Docker's 0710). */
export const CONTAINERS_DIR_MODE = 0o710;

/** A container's dir as an older tug left it: 0755, its record and runtime bundle world-readable. */
async function tighten(dir: string): Promise<void> {
  await ensureDir(dir, CONTAINERS_DIR_MODE);
  await chmodIfExists(join(dir, 'container.json'), 0o600);
  await chmodIfExists(join(dir, 'bundle'), 0o700);
  await chmodIfExists(join(dir, 'bundle', 'config.json'), 0o600);
}

export class ContainerStore {
  private readonly byId = new Map<string, ContainerRecord>();
  /**
   * New records whose first write is still under way. Their names are claimed
   * (byName sees them, so two creates cannot take one name) but nobody lists,
   * inspects or acts on them yet: a container shown by `docker ps` must still be
   * there after a kill -9 of the daemon.
   */
  private readonly unsaved = new Set<string>();

  private constructor(private readonly dir: string) {}

  static async open(root: string): Promise<ContainerStore> {
    const dir = join(root, 'containers');
    await ensureDir(dir, CONTAINERS_DIR_MODE);
    const store = new ContainerStore(dir);
    for (const id of await readdir(dir)) {
      try {
        const rec = JSON.parse(await readFile(join(dir, id, 'container.json'), 'utf8')) as ContainerRecord;
        await tighten(join(dir, id));
        store.byId.set(rec.Id, rec);
      } catch {
        // A directory without a complete record is a create that crashed before
        // its first write: nothing references it, so drop it.
        await rm(join(dir, id), { recursive: true, force: true });
      }
    }
    return store;
  }

  containerDir(id: string): string {
    return join(this.dir, id);
  }

  all(): ContainerRecord[] {
    return [...this.visible()];
  }

  private *visible(): Iterable<ContainerRecord> {
    for (const c of this.byId.values()) if (!this.unsaved.has(c.Id)) yield c;
  }

  /** By full id, unique id prefix, or name (with or without the leading '/'). */
  find(ref: string): ContainerRecord | undefined {
    if (!ref) return undefined;
    const exact = this.byId.get(ref);
    if (exact && !this.unsaved.has(exact.Id)) return exact;
    const name = ref.startsWith('/') ? ref : `/${ref}`;
    for (const c of this.visible()) if (c.Name === name) return c;
    const matches = [...this.visible()].filter((c) => c.Id.startsWith(ref));
    if (matches.length > 1) throw invalid(`multiple IDs found with provided prefix: ${ref}`);
    return matches[0];
  }

  get(ref: string): ContainerRecord {
    const c = this.find(ref);
    if (!c) throw notFound(`No such container: ${ref}`);
    return c;
  }

  /** Name claims, unsaved records included. */
  byName(name: string): ContainerRecord | undefined {
    for (const c of this.byId.values()) if (c.Name === name) return c;
    return undefined;
  }

  async save(rec: ContainerRecord): Promise<void> {
    const isNew = !this.byId.has(rec.Id);
    this.byId.set(rec.Id, rec);
    if (!isNew) {
      await writeJsonAtomic(join(this.dir, rec.Id, 'container.json'), rec, 0o600);
      return;
    }
    this.unsaved.add(rec.Id);
    try {
      await ensureDir(join(this.dir, rec.Id), CONTAINERS_DIR_MODE);
      await writeJsonAtomic(join(this.dir, rec.Id, 'container.json'), rec, 0o600);
    } catch (err) {
      // Nothing half-made: the claim on the name goes with the failed write.
      this.byId.delete(rec.Id);
      await rm(join(this.dir, rec.Id), { recursive: true, force: true });
      throw err;
    } finally {
      this.unsaved.delete(rec.Id);
    }
  }

  async remove(id: string): Promise<void> {
    this.byId.delete(id);
    await rm(join(this.dir, id), { recursive: true, force: true });
  }
}
