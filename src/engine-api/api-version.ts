// The /vX.Y prefix a client asks for: dockerd refuses versions outside the
// range it supports with a 400 naming the range, instead of guessing.
import { invalid } from '../errdefs.js';
import { apiVersion, minApiVersion } from './routes-system.js';

function compare(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am !== bm ? am - bm : an - bn;
}

/** Throws invalid (400) for a version this daemon does not serve; '' (no prefix) is fine. */
export function checkApiVersion(version: string): void {
  if (!version) return;
  if (compare(version, minApiVersion) < 0) {
    throw invalid(`client version ${version} is too old. Minimum supported API version is ${minApiVersion}, please upgrade your client to a newer version`);
  }
  if (compare(version, apiVersion) > 0) throw invalid(`client version ${version} is too new. Maximum supported API version is ${apiVersion}`);
}
