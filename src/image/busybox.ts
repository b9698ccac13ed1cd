// The built-in busybox image, made from Debian's busybox-static without any
// network: a rootfs laid out like the official image (/bin/busybox plus a hard
// link per applet, passwd/group, tmp, root, home, var…) packed into one layer.
//
// The layer is reproducible: entries sorted, every mtime and the config's
// `created` pinned to the busybox binary's own mtime, owners 0:0, fixed modes.
// So the image ID is the same on every host with the same busybox binary.
//
// A store builds it the first time `busybox` (or busybox:latest) is asked for
// and not found; the layer is written in a work dir the store removes, and the
// image is recorded by addImage, so a crash mid-build leaves nothing recorded.
import { mkdir, chmod, copyFile, link, stat, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runTool } from '../util/exec-file.js';
import { unavailable } from '../errdefs.js';
import { diffIdOfFile } from '../oci/digest.js';
import { MediaTypes, type OciImageConfig } from '../oci/image-spec.js';
import { DEFAULT_DOMAIN, type ImageReference } from '../oci/reference.js';
import type { ImageIntake, ImageRecord } from './image-record.js';

export const BUSYBOX_BINARY = '/bin/busybox';
export const BUSYBOX_REF = 'busybox:latest';
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
  'bin:x:2:2:bin:/bin:/bin/false',
  'sys:x:3:3:sys:/dev:/bin/false',
  'sync:x:4:100:sync:/bin:/bin/sync',
  'mail:x:8:8:mail:/var/spool/mail:/bin/false',
  'www-data:x:33:33:www-data:/var/www:/bin/false',
  'operator:x:37:37:Operator:/var:/bin/false',
  'nobody:x:65534:65534:nobody:/home:/bin/false',
  '',
].join('\n');

const GROUP = [
  'root:x:0:',
  'daemon:x:1:',
  'bin:x:2:',
  'sys:x:3:',
  'adm:x:4:',
  'tty:x:5:',
  'disk:x:6:',
  'wheel:x:10:root',
  'mail:x:12:',
  'www-data:x:33:',
  'users:x:100:',
  'nogroup:x:65533:',
  'nobody:x:65534:',
  '',
].join('\n');

// [path, mode]; created in this order, parents first.
const DIRS: Array<[string, number]> = [
  ['bin', 0o755],
  ['dev', 0o755],
  ['etc', 0o755],
  ['home', 0o755],
  ['root', 0o700],
  ['tmp', 0o1777],
  ['usr', 0o755],
  ['usr/sbin', 0o755],
  ['var', 0o755],
  ['var/spool', 0o755],
  ['var/spool/mail', 0o755],
  ['var/www', 0o755],
];

export interface BusyboxLayer {
  tarPath: string;
  config: OciImageConfig;
}

/** Writes the rootfs tar under workDir (which the caller removes) and returns it with the image config. */
export async function buildBusyboxLayer(workDir: string): Promise<BusyboxLayer> {
  let binStat;
  try {
    binStat = await stat(BUSYBOX_BINARY);
  } catch {
    throw unavailable(`cannot build the busybox image: ${BUSYBOX_BINARY} is missing (install Debian's busybox-static)`);
  }
  const epoch = Math.floor(binStat.mtimeMs / 1000);
  const rootfs = join(workDir, 'rootfs');
  await rm(rootfs, { recursive: true, force: true });
  await mkdir(rootfs, { recursive: true });
  for (const [dir, mode] of DIRS) {
    await mkdir(join(rootfs, dir));
    await chmod(join(rootfs, dir), mode); // explicit: mkdir's mode is filtered by the umask
  }
  const bin = join(rootfs, 'bin', 'busybox');
  await copyFile(BUSYBOX_BINARY, bin);
  await chmod(bin, 0o755);
  const { stdout } = await runTool(BUSYBOX_BINARY, ['--list']);
  const applets = [...new Set(stdout.split('\n').map((s) => s.trim()))].filter((a) => /^[A-Za-z0-9_.[-]+$/.test(a) && a !== 'busybox');
  for (const a of applets) await link(bin, join(rootfs, 'bin', a));
  await writeFile(join(rootfs, 'etc', 'passwd'), PASSWD);
  await writeFile(join(rootfs, 'etc', 'group'), GROUP);
  await chmod(join(rootfs, 'etc', 'passwd'), 0o644);
  await chmod(join(rootfs, 'etc', 'group'), 0o644);

  const tarPath = join(workDir, 'layer.tar');
  // GNU tar: --sort/--mtime/--owner give byte-identical output for identical input.
  await runTool('tar', [
    '-c', '-f', tarPath,
    '--format=gnu',
    '--sort=name',
    `--mtime=@${epoch}`,
    '--owner=0', '--group=0', '--numeric-owner',
    '-C', rootfs,
    ...DIRS.filter(([d]) => !d.includes('/')).map(([d]) => d),
  ]);
  const created = new Date(epoch * 1000).toISOString();
  const config: OciImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    created,
    config: { Env: [DEFAULT_PATH_ENV], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: [] }, // filled in by the store from the tar
    history: [
      { created, created_by: `/bin/sh -c #(nop) ADD file:${BUSYBOX_BINARY} (Debian busybox-static) in / ` },
      { created, created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
    ],
  };
  return { tarPath, config };
}

/** Adds busybox:latest to a store, built once however many callers ask at the same time. */
export class BuiltinBusybox {
  private building: Promise<ImageRecord> | undefined;

  /** `workDir` is a scratch dir of the store's (its tmp dir, emptied at open). */
  constructor(
    private readonly store: Pick<ImageIntake, 'addImage'>,
    private readonly workDir: string,
  ) {}

  /** The image for a tag no image carries, when that tag is busybox:latest on Docker Hub. */
  async forMissingTag(name: string, parsed: ImageReference): Promise<ImageRecord | undefined> {
    if (name !== BUSYBOX_REF || parsed.domain !== DEFAULT_DOMAIN) return undefined;
    return this.ensure();
  }

  ensure(): Promise<ImageRecord> {
    if (!this.building) {
      this.building = (async () => {
        const work = join(this.workDir, `busybox-${randomBytes(6).toString('hex')}`);
        try {
          const { tarPath, config } = await buildBusyboxLayer(work);
          const { diffId } = await diffIdOfFile(tarPath);
          config.rootfs.diff_ids = [diffId];
          return await this.store.addImage(config, [{ path: tarPath, mediaType: MediaTypes.ociLayer }], BUSYBOX_REF);
        } finally {
          await rm(work, { recursive: true, force: true });
        }
      })().finally(() => {
        this.building = undefined;
      });
    }
    return this.building;
  }
}
