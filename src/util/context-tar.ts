// A build context as the engine's /build takes it: the context directory as a
// tar stream (GNU tar, read on the client's side), plus a Dockerfile that lives
// outside the context, added under another name. Shared by `tug build` and
// `tug compose build`; each caller says which error a failed read becomes.
import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';

export interface OutsideDockerfile {
  dir: string;
  name: string;
  /** The name it takes inside the tar. */
  as: string;
}

export function tarContext(dir: string, dockerfile: OutsideDockerfile | undefined, fail: (message: string) => Error): Readable {
  const args = ['-c', '-f', '-', '-C', dir, '.'];
  if (dockerfile) args.push('-C', dockerfile.dir, `--transform=s|^${dockerfile.name.replace(/[.|]/g, '\\$&')}$|${dockerfile.as}|`, dockerfile.name);
  const child = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  child.stdout.pipe(out, { end: false });
  child.on('close', (code) => {
    if (code !== 0) out.destroy(fail(`cannot read the build context ${dir}: ${err.trim()}`));
    else out.end();
  });
  return out;
}
