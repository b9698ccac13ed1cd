// What a running dashboard keeps in its daemon's state directory
// (ROOT/dashboard, 0700): its URL, its login token (0600; whoever can read it
// may act as the daemon's owner, as whoever can open the engine socket can)
// and one-time login tickets that `tug dashboard` drops in and the server
// consumes at the first use. A ticket is a file so that only someone who can
// write the root (the daemon's owner) can mint one, without any API for it.
import { mkdir, readFile, rm, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { writeFileAtomic } from '../util/atomic-file.js';
import { notFound } from '../errdefs.js';

/** How long a ticket `tug dashboard` printed stays usable. */
const TICKET_TTL_MS = 5 * 60_000;

export function dashboardDir(root: string): string {
  return join(root, 'dashboard');
}

export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

/** The daemon's login token: kept across restarts, so a bookmarked login keeps working. */
export async function ensureLoginToken(root: string): Promise<string> {
  const dir = dashboardDir(root);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'token');
  const old = (await readFile(path, 'utf8').catch(() => '')).trim();
  if (old) return old;
  const token = newSecret();
  await writeFileAtomic(path, `${token}\n`, 0o600);
  return token;
}

export async function writeDashboardUrl(root: string, url: string): Promise<void> {
  await writeFileAtomic(join(dashboardDir(root), 'url'), `${url}\n`, 0o600);
}

export async function removeDashboardUrl(root: string): Promise<void> {
  await rm(join(dashboardDir(root), 'url'), { force: true });
}

/** The URL of the dashboard a running daemon wrote, or a not-found error saying why there is none. */
export async function readDashboardUrl(root: string): Promise<string> {
  const url = (await readFile(join(dashboardDir(root), 'url'), 'utf8').catch(() => '')).trim();
  if (!url) throw notFound(`no dashboard is running for ${root} (is the daemon running, without --ui-addr off?)`);
  return url;
}

const ticketName = (ticket: string): string => createHash('sha256').update(ticket).digest('hex');

/** Mints a one-time login ticket (for `tug dashboard`). */
export async function mintTicket(root: string): Promise<string> {
  const ticket = newSecret();
  const dir = join(dashboardDir(root), 'tickets');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(dir, ticketName(ticket)), '', 0o600);
  return ticket;
}

/** Uses up a ticket: true if it existed and was fresh. Expired tickets are swept on the way. */
export async function consumeTicket(root: string, ticket: string): Promise<boolean> {
  const dir = join(dashboardDir(root), 'tickets');
  const now = Date.now();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const s = await stat(join(dir, name)).catch(() => undefined);
    if (s && now - s.mtimeMs > TICKET_TTL_MS) await rm(join(dir, name), { force: true });
  }
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(ticket)) return false;
  const path = join(dir, ticketName(ticket));
  const s = await stat(path).catch(() => undefined);
  if (!s) return false;
  // rm is the claim: of two racing uses, one removes the file; the other then sees it gone.
  try {
    await rm(path);
  } catch {
    return false;
  }
  return now - s.mtimeMs <= TICKET_TTL_MS;
}
