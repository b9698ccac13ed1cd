// The page's files, as `npm run build` made them (dist/dashboard-ui, bundled
// by esbuild at build time): read and gzipped once, then served from memory.
// File names carry a content hash, so everything but index.html is cached for good.
import { readFile, readdir } from 'node:fs/promises';
import { join, dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';

const assetDir = join(dirname(fileURLToPath(import.meta.url)), '../../dashboard-ui');

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

interface Asset {
  type: string;
  raw: Buffer;
  gzip: Buffer;
}

export class StaticAssets {
  private constructor(private readonly files: Map<string, Asset>) {}

  static async load(): Promise<StaticAssets> {
    const files = new Map<string, Asset>();
    let names: string[];
    try {
      names = await readdir(assetDir);
    } catch {
      throw new Error(`the dashboard's files are missing (${assetDir}): run npm run build`);
    }
    for (const name of names) {
      const raw = await readFile(join(assetDir, name));
      files.set(`/${name}`, { type: types[extname(name)] ?? 'application/octet-stream', raw, gzip: gzipSync(raw, { level: 9 }) });
    }
    return new StaticAssets(files);
  }

  /** Serves path if it is one of the page's files; false otherwise. */
  serve(path: string, req: IncomingMessage, res: ServerResponse): boolean {
    const name = path === '/' ? '/index.html' : path.replace(/^\/assets\//, '/');
    const a = this.files.get(name);
    if (!a) return false;
    const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gz ? a.gzip : a.raw;
    res.writeHead(200, {
      'content-type': a.type,
      'content-length': body.length,
      ...(gz ? { 'content-encoding': 'gzip' } : {}),
      vary: 'Accept-Encoding',
      'cache-control': name === '/index.html' ? 'no-cache' : 'public, max-age=31536000, immutable',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
}
