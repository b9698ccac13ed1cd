// The client's own version, read from package.json so there is one source of truth.
import { readFile } from 'node:fs/promises';

export async function clientVersion(): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'dev';
  } catch {
    return 'dev';
  }
}
