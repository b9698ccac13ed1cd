// One file of a tree on its way from a reader (a walk of a root, or a tar
// archive) to a writer (into a root, or into a tar archive). The names are
// tar's, so an archive is only a coding of a stream of these.
export type EntryType = 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';

export interface TreeEntry {
  /** '/'-separated, relative to where the tree is written; no leading '/'. */
  name: string;
  type: EntryType;
  /** Permission bits with setuid/setgid/sticky (no file-type bits). */
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  /** Bytes of content (files only). */
  size: number;
  /** Symlink target, or for a hard link the name of the entry it links to. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** The content of a file: exactly `size` bytes. */
  body?: AsyncIterable<Buffer>;
}
