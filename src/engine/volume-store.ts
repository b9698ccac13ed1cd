// Named volumes (local driver): data in <root>/volumes/<name>/_data, metadata
// beside it. A volume is "fresh" until first mounted, so the engine can fill it
// from the image as Docker does.
import { chmod, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeJsonAtomic } from '../util/atomic-file.js';
import { ensureDir } from '../util/dir-mode.js';
import { conflict, invalid, notFound } from '../errdefs.js';

export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: 'local';
  Options: Record<string, string> | null;
  /** Whether the volume has been mounted (and so filled) at least once. */
  populated: boolean;
  anonymous: boolean;
}

const validName = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export class VolumeStore {
  private readonly byName = new Map<string, VolumeRecord>();

  private constructor(private readonly dir: string) {}

  static async open(root: string): Promise<VolumeStore> {
    const dir = join(root, 'volumes');
    await mkdir(dir, { recursive: true });
    const s = new VolumeStore(dir);
    for (const name of await readdir(dir)) {
      try {
        const v = JSON.parse(await readFile(join(dir, name, 'volume.json'), 'utf8')) as VolumeRecord;
        // An older tug made these 0755 and 0644; _data keeps whatever mode its users gave it.
        await ensureDir(join(dir, name), 0o701);
        await chmod(join(dir, name, 'volume.json'), 0o600);
        s.byName.set(v.Name, v);
      } catch {
        await rm(join(dir, name), { recursive: true, force: true });
      }
    }
    return s;
  }

  list(): VolumeRecord[] {
    return [...this.byName.values()];
  }

  get(name: string): VolumeRecord {
    const v = this.byName.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  find(name: string): VolumeRecord | undefined {
    return this.byName.get(name);
  }

  async create(opts: { Name?: string; Driver?: string; Labels?: Record<string, string>; DriverOpts?: Record<string, string> }): Promise<VolumeRecord> {
    const anonymous = !opts.Name;
    const name = opts.Name || randomBytes(32).toString('hex');
    if (!validName.test(name)) {
      throw invalid(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
    }
    if (opts.Driver && opts.Driver !== 'local') throw notFound(`error looking up volume plugin ${opts.Driver}: plugin "${opts.Driver}" not found`);
    const existing = this.byName.get(name);
    if (existing) return existing; // Docker: creating an existing volume returns it
    const mountpoint = join(this.dir, name, '_data');
    // moby's local driver: the volume's dir 0701 (its volume.json is 0600), _data
    // 0755 so containers running as any user can use it as the image made it.
    await ensureDir(join(this.dir, name), 0o701);
    await ensureDir(mountpoint, 0o755);
    const v: VolumeRecord = {
      Name: name,
      Driver: 'local',
      Mountpoint: mountpoint,
      CreatedAt: new Date().toISOString(),
      Labels: opts.Labels ?? {},
      Scope: 'local',
      Options: opts.DriverOpts && Object.keys(opts.DriverOpts).length ? opts.DriverOpts : null,
      populated: false,
      anonymous,
    };
    await writeJsonAtomic(join(this.dir, name, 'volume.json'), v);
    this.byName.set(name, v);
    return v;
  }

  async markPopulated(name: string): Promise<void> {
    const v = this.get(name);
    if (v.populated) return;
    v.populated = true;
    await writeJsonAtomic(join(this.dir, name, 'volume.json'), v);
  }

  async remove(name: string, inUseBy: string[], force = false): Promise<void> {
    const v = this.byName.get(name);
    if (!v) {
      if (force) return;
      throw notFound(`get ${name}: no such volume`);
    }
    if (inUseBy.length) throw conflict(`remove ${name}: volume is in use - [${inUseBy.join(', ')}]`);
    this.byName.delete(name);
    await rm(join(this.dir, name), { recursive: true, force: true });
  }

  async sizeOf(name: string): Promise<number> {
    return dirSize(this.get(name).Mountpoint);
  }
}

export async function dirSize(path: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(path, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}
