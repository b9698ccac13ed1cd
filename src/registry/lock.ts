// The write lock of a registry root: a file holding the pid of the one process
// allowed to change it (a serving registry without --read-only, or gc).
// Created with O_EXCL; a lock left by a dead process is taken over. This is how
// gc refuses to sweep under a live writer: it would otherwise delete blobs that
// were pushed but whose manifest has not arrived yet.
import { open, readFile, rm } from 'node:fs/promises';
import { conflict } from '../errdefs.js';
import { Layout } from './storage/layout.js';
import { isNotFound } from './storage/fs-helpers.js';
import { processAlive } from '../util/process-alive.js';

export interface WriteLock {
  release(): Promise<void>;
}

export async function acquireWriteLock(root: string, purpose: string): Promise<WriteLock> {
  const path = new Layout(root).lockFile();
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o644);
      await fh.writeFile(`${process.pid} ${purpose}\n`);
      await fh.close();
      return { release: () => rm(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = '';
    try {
      holder = (await readFile(path, 'utf8')).trim();
    } catch (err) {
      if (isNotFound(err)) continue;
      throw err;
    }
    const pid = Number.parseInt(holder, 10);
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
      throw conflict(`registry root ${root} is locked for writing by pid ${pid} (${holder.split(' ').slice(1).join(' ')}); stop it or run it with --read-only first`);
    }
    await rm(path, { force: true }); // stale: its process is gone
  }
  throw conflict(`could not take the write lock ${path}`);
}
