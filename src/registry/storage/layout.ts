// Where things live under --root. Mirrors CNCF Distribution's filesystem driver
// on purpose (content-addressed blobs shared by all repositories, per-repository
// link files), because that shape makes dedup, blob isolation between repos and
// mark-and-sweep gc fall out of plain directory walks. Every argument here has
// already passed names.ts, so joined paths cannot escape root.
import { join } from 'node:path';
import { hexOf } from '../names.js';

export class Layout {
  constructor(readonly root: string) {}

  blob(digest: string): string {
    const hex = hexOf(digest);
    return join(this.root, 'blobs', 'sha256', hex.slice(0, 2), hex);
  }
  blobsDir(): string {
    return join(this.root, 'blobs', 'sha256');
  }
  tmpDir(): string {
    return join(this.root, 'tmp');
  }
  reposDir(): string {
    return join(this.root, 'repositories');
  }
  repo(name: string): string {
    return join(this.root, 'repositories', ...name.split('/'));
  }
  layerLink(name: string, digest: string): string {
    return join(this.repo(name), '_layers', 'sha256', hexOf(digest));
  }
  layersDir(name: string): string {
    return join(this.repo(name), '_layers', 'sha256');
  }
  manifestsDir(name: string): string {
    return join(this.repo(name), '_manifests');
  }
  revision(name: string, digest: string): string {
    return join(this.repo(name), '_manifests', 'revisions', 'sha256', hexOf(digest));
  }
  revisionsDir(name: string): string {
    return join(this.repo(name), '_manifests', 'revisions', 'sha256');
  }
  tag(name: string, tag: string): string {
    return join(this.repo(name), '_manifests', 'tags', tag);
  }
  tagsDir(name: string): string {
    return join(this.repo(name), '_manifests', 'tags');
  }
  referrersDir(name: string, subject: string): string {
    return join(this.repo(name), '_referrers', 'sha256', hexOf(subject));
  }
  referrersRoot(name: string): string {
    return join(this.repo(name), '_referrers', 'sha256');
  }
  uploadsDir(name: string): string {
    return join(this.repo(name), '_uploads');
  }
  upload(name: string, uuid: string): string {
    return join(this.repo(name), '_uploads', uuid);
  }
  lockFile(): string {
    return join(this.root, 'write.lock');
  }
}
