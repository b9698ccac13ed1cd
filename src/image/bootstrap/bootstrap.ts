// `tug image bootstrap debian:bookworm` (and bookworm-slim): a real Debian base
// image made from Debian's mirror with mmdebstrap, imported as one layer. The
// rootfs tarball is kept in a machine-wide cache ($TUG_BOOTSTRAP_CACHE, default
// /var/cache/tug/bootstrap) so a second bootstrap, on any daemon, is an import.
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { invalid, unavailable, messageOf } from '../../errdefs.js';
import { runTool } from '../../util/exec-file.js';
import type { ImageRecord, ImageStore } from '../image-store.js';
import { hostMirrorLines } from './debian-sources.js';

interface Flavour {
  suite: string;
  slim: boolean;
}

const FLAVOURS: Record<string, Flavour> = {
  'debian:bookworm': { suite: 'bookworm', slim: false },
  'debian:bookworm-slim': { suite: 'bookworm', slim: true },
  'debian:12': { suite: 'bookworm', slim: false },
  'debian:12-slim': { suite: 'bookworm', slim: true },
};

// What Docker's -slim images leave out (docs, man pages, locales but C).
const SLIM_EXCLUDES = ['/usr/share/doc/*', '/usr/share/man/*', '/usr/share/info/*', '/usr/share/locale/*', '/usr/share/lintian/*', '/usr/share/linda/*'];

export function bootstrapCacheDir(): string {
  return process.env.TUG_BOOTSTRAP_CACHE || '/var/cache/tug/bootstrap';
}

export function supportedBootstrapRefs(): string[] {
  return Object.keys(FLAVOURS);
}

export interface BootstrapOptions {
  mirror?: string;
  onProgress?(text: string): void;
  /** Told once the image is in the store (the engine emits its import event). */
  onImported?(img: ImageRecord, name: string): void;
}

export async function bootstrapImage(images: ImageStore, ref: string, opts: BootstrapOptions = {}): Promise<ImageRecord> {
  const name = ref.replace(/^(docker\.io\/)?(library\/)?/, '');
  const flavour = FLAVOURS[name];
  if (!flavour) throw invalid(`cannot bootstrap ${JSON.stringify(ref)}: supported are ${Object.keys(FLAVOURS).join(', ')}`);
  const say = (t: string): void => opts.onProgress?.(t);
  const cacheDir = bootstrapCacheDir();
  const tarball = join(cacheDir, `${flavour.suite}${flavour.slim ? '-slim' : ''}-amd64.tar`);
  let cached = false;
  try {
    cached = (await stat(tarball)).size > 0;
  } catch {
    cached = false;
  }
  if (cached) say(`Using the cached root filesystem ${tarball}\n`);
  else {
    await mkdir(cacheDir, { recursive: true });
    const tmp = `${tarball}.${randomBytes(4).toString('hex')}.tmp`;
    const mirrors = opts.mirror ? [`deb ${opts.mirror} ${flavour.suite} main`] : await hostMirrorLines(flavour.suite);
    say(`Bootstrapping Debian ${flavour.suite}${flavour.slim ? ' (slim)' : ''} from ${mirrors.map((m) => m.split(' ')[1]).join(', ')} with mmdebstrap (takes a few minutes)\n`);
    const args = ['--variant=minbase', '--mode=root', '--format=tar', '--quiet', '--aptopt=Acquire::Retries "3"'];
    for (const p of flavour.slim ? SLIM_EXCLUDES : []) args.push(`--dpkgopt=path-exclude=${p}`);
    if (flavour.slim) args.push('--dpkgopt=path-include=/usr/share/doc/*/copyright');
    try {
      await runTool('mmdebstrap', [...args, flavour.suite, tmp, ...mirrors]);
      await rename(tmp, tarball);
    } catch (err) {
      await rm(tmp, { force: true });
      const msg = messageOf(err);
      if (/ENOENT|not found/i.test(msg) && /mmdebstrap/.test(msg)) throw unavailable('mmdebstrap is not installed (apt-get install mmdebstrap)');
      throw unavailable(`mmdebstrap failed: ${msg.split('\n').slice(-5).join(' | ')}`);
    }
    say(`Cached the root filesystem at ${tarball}\n`);
  }
  const img = await images.importTar(createReadStream(tarball), { ref: name, changes: ['ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'CMD ["bash"]'], message: `tug image bootstrap ${name} (mmdebstrap ${flavour.suite}${flavour.slim ? ', slim' : ''})` });
  opts.onImported?.(img, name);
  return img;
}
