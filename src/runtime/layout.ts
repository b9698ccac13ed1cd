// Where the runtime keeps each daemon's state. Everything lives under one
// stateDir so side-by-side daemons (and tests) never see each other's
// containers: runc's own root, conmon's pidfiles, fifos, attach sockets and
// exit files.
import { join } from 'node:path';
import { invalid } from '../errdefs.js';

// runc's own rule for container ids; we also refuse a leading dot so an id can
// never name '.' or '..' inside our directories.
const ID_RE = /^[A-Za-z0-9_+-][A-Za-z0-9_.+-]*$/;

export function checkId(id: string, what = 'container id'): void {
  if (!ID_RE.test(id) || id.length > 1024) throw invalid(`invalid ${what} ${JSON.stringify(id)}: must match ${ID_RE.source}`);
}

export class RuntimeLayout {
  constructor(readonly stateDir: string) {}

  get runcRoot(): string {
    return join(this.stateDir, 'runc');
  }
  /** conmon --exit-dir for containers: one file per container id holding its exit status. */
  get exitDir(): string {
    return join(this.stateDir, 'exits');
  }
  /** conmon's bundle and persist dir: config.json copy, pidfiles, attach socket, ctl/winsz fifos, oom file. */
  containerDir(id: string): string {
    return join(this.stateDir, 'c', id);
  }
  exitFile(id: string): string {
    return join(this.exitDir, id);
  }
  metaFile(id: string): string {
    return join(this.containerDir(id), 'meta.json');
  }
  conmonPidFile(id: string): string {
    return join(this.containerDir(id), 'conmon.pid');
  }
  containerPidFile(id: string): string {
    return join(this.containerDir(id), 'pidfile');
  }
  oomFile(id: string): string {
    return join(this.containerDir(id), 'oom');
  }
  execDir(id: string, execId: string): string {
    return join(this.containerDir(id), 'x', execId);
  }
}
