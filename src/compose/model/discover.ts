// Which files make the project and what it is called, as Compose decides:
// -f files, else COMPOSE_FILE, else the first of compose.yaml, compose.yml,
// docker-compose.yml, docker-compose.yaml found in the working directory or
// a parent, with its compose.override.* beside it. The project name is -p or
// COMPOSE_PROJECT_NAME (refused when not already normal), else the top-level
// `name`, else the project directory's name (both made normal).

import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { invalid } from '../../errdefs.js';

export const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
export const OVERRIDE_FILES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yml', 'docker-compose.override.yaml'];

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

export interface Discovered {
  files: string[];
  warnings: string[];
}

/** The default files from `dir` upward; throws when none is found. */
export async function discoverFiles(dir: string): Promise<Discovered> {
  let d = path.resolve(dir);
  for (;;) {
    const found: string[] = [];
    for (const name of DEFAULT_FILES) if (await isFile(path.join(d, name))) found.push(name);
    if (found.length > 0) {
      const warnings: string[] = [];
      if (found.length > 1) {
        warnings.push(`Found multiple config files with supported names: ${found.map((f) => path.join(d, f)).join(', ')}\nUsing ${path.join(d, found[0]!)}`);
      }
      const files = [path.join(d, found[0]!)];
      for (const name of OVERRIDE_FILES) {
        if (await isFile(path.join(d, name))) {
          files.push(path.join(d, name));
          break;
        }
      }
      return { files, warnings };
    }
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  throw invalid(`no configuration file provided: not found (looked for ${DEFAULT_FILES.join(', ')} in ${path.resolve(dir)} and its parents)`);
}

const NORMAL = /^[a-z0-9][a-z0-9_-]*$/;

/** Lower-cased, only [a-z0-9_-], not starting with - or _ (how Compose names a project after its directory). */
export function normalizeProjectName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[-_]+/, '');
}

/** An imperatively given name (-p, COMPOSE_PROJECT_NAME) must already be normal. */
export function checkProjectName(name: string): string {
  if (!NORMAL.test(name)) {
    throw invalid(
      `invalid project name "${name}": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`,
    );
  }
  return name;
}

export function projectNameOf(opts: { flag?: string; envName?: string; fileName?: string; dir: string }): string {
  if (opts.flag) return checkProjectName(opts.flag);
  if (opts.envName) return checkProjectName(opts.envName);
  const name = normalizeProjectName(opts.fileName || path.basename(opts.dir));
  if (!name) {
    throw invalid(
      `project name must not be empty: the ${opts.fileName ? 'top-level name' : `directory name "${path.basename(opts.dir)}"`} has no lowercase letter, digit, "-" or "_"; give one with -p`,
    );
  }
  return name;
}
