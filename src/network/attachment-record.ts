// What tug remembers about each attached container, one JSON file per
// container under <root>/network/attachments. It is written before the first
// plugin runs and after every plugin, so a detach after a crash (even one in
// the middle of an attach) can still run DEL with what ADD did.
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic-file.js';
import type { CniResult } from './cni-plugin.js';
import type { ConfList } from './cni-conflist.js';

export interface PortMapping {
  /** '' = all host addresses. */
  hostIp: string;
  /** 0 = pick a free one. */
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

export interface AttachmentRecord {
  containerId: string;
  netnsPath: string;
  ifName: string;
  /** The exact list ADD ran, so DEL matches it even if defaults change later. */
  confList: ConfList;
  runtimeConfig: Record<string, unknown>;
  /** Ports with the chosen host ports filled in. */
  ports: PortMapping[];
  /** Result after the last plugin that finished ADD (the final one once complete). */
  result?: CniResult;
  complete: boolean;
  /** The namespace belongs to the engine (several networks share it): never made or removed here. */
  sharedNetns?: boolean;
  /** tug's own addressing: the address chosen before the link is made (the record is its lease). */
  address?: string;
  /**
   * Wired by tug itself (bridge-network.ts, direct wiring): the host end of the
   * veth. No bridge or IPAM plugin ran; confList holds only what still runs as
   * a plugin (portmap), and result is the one tug made for it.
   */
  hostIf?: string;
}

export class AttachmentRecords {
  constructor(private readonly dir: string) {}

  private pathOf(containerId: string): string {
    return join(this.dir, `${containerId}.json`);
  }

  async read(containerId: string): Promise<AttachmentRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.pathOf(containerId), 'utf8')) as AttachmentRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  write(rec: AttachmentRecord): Promise<void> {
    return writeJsonAtomic(this.pathOf(rec.containerId), rec);
  }

  async remove(containerId: string): Promise<void> {
    await rm(this.pathOf(containerId), { force: true });
  }

  async ids(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((f) => f.endsWith('.json') && !f.startsWith('.')).map((f) => f.slice(0, -5));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}
