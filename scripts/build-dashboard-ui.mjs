// Bundles the dashboard's page (src/dashboard-ui, TypeScript + preact/htm) into
// dist/dashboard-ui at build time: hashed, minified ES modules (the exec
// terminal and the plots are split into chunks loaded when first shown) and an
// index.html naming them. Nothing is bundled or compiled at run time.
import { build } from 'esbuild';
import { mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(repo, 'dist', 'dashboard-ui');
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const result = await build({
  entryPoints: [join(repo, 'src/dashboard-ui/main.ts')],
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  minify: true,
  target: ['chrome110', 'firefox110', 'safari16'],
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});
const outputs = Object.entries(result.metafile.outputs);
const entry = outputs.find(([, o]) => o.entryPoint)?.[0];
const css = outputs.filter(([f]) => f.endsWith('.css')).map(([f]) => basename(f));
const template = await readFile(join(repo, 'src/dashboard-ui/index.html'), 'utf8');
await writeFile(
  join(out, 'index.html'),
  template.replace('<!--css-->', css.map((c) => `<link rel="stylesheet" href="/assets/${c}">`).join('')).replace('<!--js-->', `<script type="module" src="/assets/${basename(entry)}"></script>`),
);
