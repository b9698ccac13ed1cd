// The X-Registry-Auth header the CLI sends with pulls and pushes: what `tug login`
// stored for the registry (image/registry-client/credential-store.ts owns the file).
import { loadAuth } from '../../image/registry-client/credential-store.js';

/** The X-Registry-Auth header value for a registry key: base64url JSON, "{}" when anonymous. */
export async function registryAuthHeader(key: string): Promise<string> {
  const a = await loadAuth(key);
  return Buffer.from(JSON.stringify(a ?? {})).toString('base64url');
}
