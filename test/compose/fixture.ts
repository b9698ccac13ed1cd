// Test fixtures for the Compose loader: a temp directory filled with the
// given files, and loadProject called on it with a clean environment (the
// test's own variables only, never the runner's).

import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import { loadProject } from '../../src/compose/model/load-project.js';
import type { ComposeProject, LoadOptions } from '../../src/compose/model/project-types.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A fresh directory holding `files` (paths relative to it; parents made). `sub` names the project folder. */
export async function fixture(files: Record<string, string>, sub = 'proj'): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'tug-compose-model-'));
  dirs.push(root);
  const dir = path.join(root, sub);
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    const p = path.join(dir, name);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, text);
  }
  return dir;
}

export function load(cwd: string, opts: Partial<LoadOptions> = {}): Promise<ComposeProject> {
  return loadProject({ files: [], envFiles: [], profiles: [], env: {}, cwd, ...opts });
}

/** The message loadProject rejects with (fails the test when it resolves). */
export async function loadError(cwd: string, opts: Partial<LoadOptions> = {}): Promise<string> {
  try {
    await load(cwd, opts);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('loadProject succeeded where an error was expected');
}
