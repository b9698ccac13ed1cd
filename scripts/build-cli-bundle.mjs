// Bundles the tug CLI (dist/src/cli/main.js and every command module it loads)
// into one CommonJS file, dist/src/cli/bundle.cjs, at build time. On Node 20,
// which has no compile cache, a start then reads and compiles one file through
// the synchronous CommonJS loader instead of resolving a graph of ES modules
// one asynchronous file read at a time (measured: about half of the CLI's own
// start-up above `node -e 0`). Each command's code still runs only when that
// command does (esbuild keeps the lazy `import()`s as lazily initialized
// modules). Left out, and loaded as the ES modules tsc wrote: npm packages, and
// the services (daemon, registry, server, agent, token, dashboard), which start
// long-running programs of their own and handle their own errors.
// Also bundled, apart: the agent's early Lease renewal
// (dist/src/node/agent/early-lease.cjs), which bin/tug runs for `tug agent`
// before it loads anything else; it must hold node: built-ins only (checked).
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliDir = join(repo, 'dist/src/cli');
const SERVICES = /^(\.\.\/engine-api\/|\.\.\/registry\/|\.\.\/cluster\/|\.\.\/node\/run-agent\.js$|\.\/commands\/dashboard\.js$)/;

const result = await build({
  entryPoints: [join(cliDir, 'main.js')],
  outfile: join(cliDir, 'bundle.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // The bundle sits where main.js does, so the services' relative paths still resolve.
  plugins: [
    {
      name: 'services-stay-modules',
      setup(b) {
        b.onResolve({ filter: /.*/ }, (a) => (a.kind === 'dynamic-import' && SERVICES.test(a.path) ? { path: a.path, external: true } : undefined));
      },
    },
  ],
  // import.meta does not exist in CommonJS: give it the bundle's own URL, which is
  // right only for modules that sit beside main.js (checked below).
  define: { 'import.meta.url': '__tug_import_meta_url' },
  banner: { js: 'const __tug_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  metafile: true,
  logLevel: 'warning',
});

const wrong = [];
for (const input of Object.keys(result.metafile.inputs)) {
  const file = join(repo, input);
  if (dirname(file) === cliDir) continue;
  if ((await readFile(file, 'utf8')).includes('import.meta')) wrong.push(relative(repo, file));
}
if (wrong.length > 0) {
  throw new Error(`bundled modules outside dist/src/cli use import.meta, which the CLI bundle cannot give them: ${wrong.join(', ')}`);
}

// The early Lease renewal: its own small bundle, every import bundled but node: built-ins.
const early = await build({
  entryPoints: [join(repo, 'dist/src/node/agent/early-lease.js')],
  outfile: join(repo, 'dist/src/node/agent/early-lease.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  metafile: true,
  logLevel: 'warning',
});
const outside = Object.values(early.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external && !i.path.startsWith('node:')).map((i) => i.path));
if (outside.length > 0) throw new Error(`the early Lease renewal must load node: built-ins only, but imports ${[...new Set(outside)].join(', ')}`);
for (const input of Object.keys(early.metafile.inputs)) {
  if ((await readFile(join(repo, input), 'utf8')).includes('import.meta')) throw new Error(`the early Lease renewal bundles ${input}, which uses import.meta`);
}
