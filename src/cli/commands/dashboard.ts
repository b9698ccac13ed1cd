// `tug dashboard`: prints (and opens, where a desktop is there to open it) a
// one-time login link to the dashboard of a running daemon or server. The
// ticket is a file in the daemon's state directory (dashboard/dashboard-files.ts),
// so whoever may read that directory may log in, and nobody else.
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { messageOf } from '../../errdefs.js';
import { mintTicket, readDashboardUrl } from '../../dashboard/dashboard-files.js';

const usage = `Usage: tug dashboard [--root DIR | --data-dir DIR] [--no-open]

Prints a one-time login link (valid for 5 minutes) to the web dashboard of the
tug daemon with --root DIR (default /var/lib/tug) or of the tug server with
--data-dir DIR, and opens it with xdg-open when there is a desktop.

Options:
  --root DIR       the daemon's state directory
  --data-dir DIR   the server's data directory
  --no-open        only print the link
`;

export async function runDashboardCommand(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { root: { type: 'string' }, 'data-dir': { type: 'string' }, 'no-open': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } }, strict: true }));
    if (values.root && values['data-dir']) throw new Error('give --root (a daemon) or --data-dir (a server), not both');
  } catch (err) {
    process.stderr.write(`tug dashboard: ${messageOf(err)}\n${usage}`);
    process.exitCode = 2;
    return;
  }
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const root = values['data-dir'] ?? values.root ?? '/var/lib/tug';
  try {
    const url = await readDashboardUrl(root);
    const link = `${url}/login?ticket=${await mintTicket(root)}`;
    process.stdout.write(`${link}\n`);
    if (!values['no-open'] && (process.env.DISPLAY || process.env.WAYLAND_DISPLAY)) {
      const child = spawn('xdg-open', [link], { stdio: 'ignore', detached: true });
      child.on('error', () => undefined); // no xdg-open: the printed link is enough
      child.unref();
    }
  } catch (err) {
    process.stderr.write(`tug dashboard: ${messageOf(err)}\n`);
    process.exitCode = 1;
  }
}
