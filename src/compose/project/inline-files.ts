// Secrets and configs given inline (`content:` or `environment:` sources)
// have no host file to bind-mount, so, as compose does, they are written
// into the created container through PUT /archive before it starts.
import tar from 'tar-stream';
import type { EngineClient } from './engine-client.js';
import { putArchive } from './engine-client.js';
import type { FileToCopy } from './container-body.js';

export async function copyInlineFiles(engine: EngineClient, id: string, files: FileToCopy[]): Promise<void> {
  if (!files.length) return;
  const pack = tar.pack();
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.target.replace(/^\/+/, '').split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (dirs.has(d)) continue;
      dirs.add(d);
      pack.entry({ name: `${d}/`, type: 'directory', mode: 0o755 });
    }
    pack.entry({ name: parts.join('/'), mode: f.mode, uid: f.uid ? Number(f.uid) : 0, gid: f.gid ? Number(f.gid) : 0 }, f.content);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  await putArchive(engine, id, '/', Buffer.concat(chunks));
}
