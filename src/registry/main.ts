// `tug registry serve|gc`: flag parsing and help only; the work is in
// http/server.ts and gc.ts.
import { invalid } from '../errdefs.js';
import { startRegistryServer, type RegistryServerOptions } from './http/server.js';
import { runGc } from './gc.js';
import { stopSignal } from '../util/stop-signal.js';

export { startRegistryServer, type RegistryServerOptions, type RunningRegistry } from './http/server.js';
export { runGc, type GcOptions, type GcResult } from './gc.js';

const HELP = `Usage:
  tug registry serve --addr HOST:PORT --root DIR [options]
      Serve the OCI distribution API (v1.1, Docker Registry HTTP API v2) from DIR.
      --htpasswd FILE          require Basic auth against bcrypt entries (htpasswd -B)
      --tls-cert F --tls-key F serve HTTPS
      --read-only              refuse every write with 405 UNSUPPORTED (and take no write lock,
                               so 'tug registry gc' may run against DIR meanwhile)
      --token-realm URL --token-service NAME --token-issuer NAME --token-cert F
                               Docker token auth: require JWT bearer tokens (RS256/ES256) signed
                               by the key of certificate F, scoped per repository
      --token-issuer-for-htpasswd --token-key F
                               also serve GET /token here: check --htpasswd, issue scoped tokens
                               signed by F (the realm defaults to this server's /token)
      --upload-ttl SECONDS     remove upload sessions older than this (default 86400)
  tug registry gc --root DIR [--dry-run] [--delete-untagged]
      Delete blobs no manifest references. Every manifest revision is kept unless
      --delete-untagged, which first deletes manifests no tag reaches. --dry-run only prints.
      Safety: a serving registry holds DIR/write.lock (with its pid) unless --read-only; gc
      takes the same lock and refuses to run while a live process holds it.`;

type Flags = Map<string, string | true>;

function parseFlags(args: string[], valued: Set<string>, boolean: Set<string>): Flags {
  const flags: Flags = new Map();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(0, eq) : a;
    if (valued.has(key)) {
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw invalid(`flag ${key} needs a value`);
      flags.set(key, v);
    } else if (boolean.has(key) && eq < 0) {
      flags.set(key, true);
    } else {
      throw invalid(`unknown flag or argument "${a}" (see tug registry --help)`);
    }
  }
  return flags;
}

const str = (f: Flags, k: string): string | undefined => {
  const v = f.get(k);
  return typeof v === 'string' ? v : undefined;
};

export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw invalid(`--addr "${addr}" is not HOST:PORT`);
  const port = Number(m[3]);
  if (port > 65535) throw invalid(`--addr port ${port} is out of range`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export function serveOptions(args: string[]): RegistryServerOptions {
  const f = parseFlags(
    args,
    new Set(['--addr', '--root', '--htpasswd', '--tls-cert', '--tls-key', '--token-realm', '--token-service', '--token-issuer', '--token-cert', '--token-key', '--upload-ttl']),
    new Set(['--read-only', '--token-issuer-for-htpasswd']),
  );
  const root = str(f, '--root');
  if (!root) throw invalid('serve needs --root DIR');
  const { host, port } = parseAddr(str(f, '--addr') ?? '127.0.0.1:5000');
  const opts: RegistryServerOptions = {
    root,
    host,
    port,
    htpasswdFile: str(f, '--htpasswd'),
    tlsCertFile: str(f, '--tls-cert'),
    tlsKeyFile: str(f, '--tls-key'),
    readOnly: f.has('--read-only'),
  };
  const ttl = str(f, '--upload-ttl');
  if (ttl !== undefined) {
    if (!/^\d+$/.test(ttl)) throw invalid(`--upload-ttl "${ttl}" is not a number of seconds`);
    opts.uploadTtlMs = Number(ttl) * 1000;
  }
  const issue = f.has('--token-issuer-for-htpasswd');
  const cert = str(f, '--token-cert');
  if (cert || issue || str(f, '--token-realm')) {
    if (!cert) throw invalid('token auth needs --token-cert FILE');
    opts.token = {
      realm: str(f, '--token-realm'),
      service: str(f, '--token-service') ?? 'tug-registry',
      issuer: str(f, '--token-issuer') ?? 'tug-registry-token',
      certFile: cert,
      keyFile: str(f, '--token-key'),
      issueForHtpasswd: issue,
    };
  }
  return opts;
}

export async function runRegistryCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help' || rest.includes('--help')) {
    process.stdout.write(HELP + '\n');
    return;
  }
  if (sub === 'serve') {
    const stopped = stopSignal({ repeatExits: true });
    const reg = await startRegistryServer(serveOptions(rest));
    process.stderr.write(`tug registry listening on ${reg.url}\n`);
    await stopped;
    await reg.close().catch(() => undefined);
    return;
  }
  if (sub === 'gc') {
    const f = parseFlags(rest, new Set(['--root']), new Set(['--dry-run', '--delete-untagged']));
    const root = str(f, '--root');
    if (!root) throw invalid('gc needs --root DIR');
    await runGc({ root, dryRun: f.has('--dry-run'), deleteUntagged: f.has('--delete-untagged') });
    return;
  }
  throw invalid(`unknown registry command "${sub}" (want serve or gc)`);
}
