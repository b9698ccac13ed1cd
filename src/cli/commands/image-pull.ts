// One image pull through the daemon's POST /images/create with the stored
// credentials, its progress drawn as docker draws it. `tug pull` prints it on
// stdout; `tug run`/`tug create` pull a missing image the same way but draw on
// stderr, so stdout keeps only what the command itself prints (the id).
import type { Ctx } from '../context.js';
import { familiarName, type ImageReference } from '../../oci/reference.js';
import { authKeyOf } from '../../image/registry-client/hosts.js';
import { registryAuthHeader } from './docker-config.js';
import { renderProgress } from './progress-render.js';

export interface PullOptions {
  platform?: string;
  quiet: boolean;
  /** Where the progress goes, and whether that is a terminal (redrawn lines) or not. */
  write(s: string): void;
  tty: boolean;
}

/** Pulls `ref` (which has a tag or a digest); a failed pull throws with the daemon's message. */
export async function pullImage(ctx: Ctx, ref: ImageReference, opts: PullOptions): Promise<void> {
  const res = await ctx.client.response('POST', '/images/create', {
    query: {
      fromImage: familiarName({ domain: ref.domain, path: ref.path }),
      tag: ref.digest ?? ref.tag,
      platform: opts.platform,
    },
    headers: { 'X-Registry-Auth': await registryAuthHeader(authKeyOf(ref.domain)) },
  });
  await renderProgress(res, opts.write, opts.tty, opts.quiet);
}
