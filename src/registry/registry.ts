// One registry root: the stores the HTTP handlers and gc work on.
import { Layout } from './storage/layout.js';
import { BlobStore } from './storage/blobs.js';
import { UploadStore } from './storage/uploads.js';
import { ManifestStore } from './storage/manifests.js';

export class Registry {
  readonly layout: Layout;
  readonly blobs: BlobStore;
  readonly uploads: UploadStore;
  readonly manifests: ManifestStore;

  constructor(root: string) {
    this.layout = new Layout(root);
    this.blobs = new BlobStore(this.layout);
    this.uploads = new UploadStore(this.layout, this.blobs);
    this.manifests = new ManifestStore(this.layout, this.blobs);
  }
}
