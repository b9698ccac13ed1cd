// The client's own version, read from package.json so there is one source of truth.
// Read synchronously: one small file, and an async read costs a thread-pool round trip
// per open/stat/read/close on the start path of every `tug version`.
import { readFileSync } from 'node:fs';

export function clientVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'dev';
  } catch {
    return 'dev';
  }
}
