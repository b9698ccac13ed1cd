// Tar is only a coding of a stream of TreeEntry: these two functions turn one
// into the other (tar-stream does the header format, pax names included), so
// every archive tug reads from or writes into a container goes through the
// same safe reader and writer, never through a host tar walking the tree.
import { once } from 'node:events';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { invalid } from '../errdefs.js';
import type { EntryType, TreeEntry } from './tree-entry.js';

const TYPES = new Set<EntryType>(['file', 'directory', 'symlink', 'link', 'character-device', 'block-device', 'fifo']);

/** A tar archive of the entries, as a stream (bodies are read as the archive is read). */
export function tarFromEntries(entries: AsyncIterable<TreeEntry>): Readable {
  const pack = tar.pack();
  void (async () => {
    try {
      for await (const e of entries) {
        const done = new Promise<void>((resolve, reject) => {
          const sink = pack.entry(
            { name: e.name, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime, size: e.type === 'file' ? e.size : 0, linkname: e.linkname, devmajor: e.devmajor, devminor: e.devminor },
            (err) => (err ? reject(err) : resolve()),
          );
          if (e.type !== 'file') return;
          void (async () => {
            if (e.body) {
              for await (const chunk of e.body) if (!sink.write(chunk)) await once(sink, 'drain');
            }
            sink.end();
          })().catch(reject);
        });
        await done;
      }
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
  })();
  return pack as unknown as Readable;
}

/** The entries of a tar archive; each body must be read before the next entry is asked for. */
export async function* entriesFromTar(input: NodeJS.ReadableStream): AsyncGenerator<TreeEntry> {
  const extract = tar.extract();
  (input as Readable).on('error', (err) => extract.destroy(err));
  (input as Readable).pipe(extract);
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const type = (h.type === 'contiguous-file' ? 'file' : h.type) as EntryType;
      if (!TYPES.has(type)) {
        entry.resume(); // global pax headers and the like carry no file
        continue;
      }
      yield {
        name: h.name,
        type,
        mode: (h.mode ?? 0o644) & 0o7777,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        mtime: h.mtime ?? new Date(0),
        size: h.size ?? 0,
        linkname: h.linkname ?? undefined,
        devmajor: h.devmajor,
        devminor: h.devminor,
        body: type === 'file' ? (entry as AsyncIterable<Buffer>) : undefined,
      };
      entry.resume(); // whatever the consumer left unread
    }
  } catch (err) {
    throw invalid(`not a readable tar archive: ${(err as Error).message}`);
  }
}
