// tug pull, push, login, logout: the daemon does the registry work (as dockerd
// does); the CLI sends the stored credentials and draws the progress.
import { flags, parse, requireArgs, UsageError } from '../args.js';
import { CliError, type Ctx } from '../context.js';
import { familiarName, fullName, parseNamed, type ImageReference } from '../../oci/reference.js';
import { authKeyOf, domainOfServerAddress, DOCKER_HUB_AUTH_KEY } from '../../image/registry-client/hosts.js';
import { registryAuthHeader } from './docker-config.js';
import { loadAuth, removeAuth, saveAuth } from '../../image/registry-client/credential-store.js';
import { pullImage } from './image-pull.js';
import { renderProgress } from './progress-render.js';

function parseImageRef(s: string): ImageReference {
  try {
    return parseNamed(s);
  } catch (err) {
    throw new UsageError(`invalid reference format: ${(err as Error).message.replace(/^invalid reference format: /, '')}`);
  }
}

export async function pull(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:quiet,q', 'string:platform', 'bool:all-tags,a', 'bool:disable-content-trust'));
  requireArgs(o, 'pull', 1, 1);
  if (o.bool('all-tags')) throw new UsageError('tug pull: --all-tags is not supported; name a tag');
  const ref = parseImageRef(o.args[0]!);
  if (ref.tag === undefined && ref.digest === undefined) {
    if (!o.bool('quiet')) ctx.out('Using default tag: latest\n');
    ref.tag = 'latest';
  }
  await pullImage(ctx, ref, { platform: o.str('platform'), quiet: o.bool('quiet'), write: ctx.out, tty: process.stdout.isTTY === true });
  ctx.out(`${fullName(ref)}\n`);
  return 0;
}

export async function push(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:quiet,q', 'bool:all-tags,a', 'bool:disable-content-trust', 'string:platform'));
  requireArgs(o, 'push', 1, 1);
  const ref = parseImageRef(o.args[0]!);
  if (ref.digest !== undefined) throw new UsageError(`tug push: cannot push a digest reference (${o.args[0]})`);
  if (ref.tag === undefined && !o.bool('all-tags')) {
    if (!o.bool('quiet')) ctx.out('Using default tag: latest\n');
    ref.tag = 'latest';
  }
  const name = familiarName({ domain: ref.domain, path: ref.path });
  const res = await ctx.client.response('POST', `/images/${encodeURIComponent(name)}/push`, {
    query: { tag: ref.tag },
    headers: { 'X-Registry-Auth': await registryAuthHeader(authKeyOf(ref.domain)) },
  });
  await renderProgress(res, ctx.out, process.stdout.isTTY === true, o.bool('quiet'));
  if (o.bool('quiet')) ctx.out(`${fullName(ref)}\n`);
  return 0;
}

export async function login(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('string:username,u', 'string:password,p', 'bool:password-stdin'));
  requireArgs(o, 'login', 0, 1);
  const server = o.args[0] ?? DOCKER_HUB_AUTH_KEY;
  const key = authKeyOf(domainOfServerAddress(server));
  let username = o.str('username');
  let password = o.str('password');
  if (o.bool('password-stdin')) {
    if (password !== undefined) throw new UsageError('--password and --password-stdin are mutually exclusive');
    if (!username) throw new UsageError('Must provide --username with --password-stdin');
    password = (await readStdin()).replace(/\r?\n$/, '');
  } else if (password !== undefined) {
    ctx.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  }
  if (!username || password === undefined) {
    const stored = await loadAuth(key);
    if (!username && stored && password === undefined) {
      username = stored.username;
      password = stored.password;
    }
  }
  if (!username) throw new CliError('Error: Cannot perform an interactive login from a non TTY device or without --username', 1);
  if (password === undefined || password === '') throw new CliError('Error: Password Required', 1);
  const r = await ctx.client.json<{ Status?: string }>('POST', '/auth', { body: { username, password, serveraddress: key } });
  await saveAuth(key, username, password);
  ctx.out(`${r?.Status ?? 'Login Succeeded'}\n`);
  return 0;
}

export async function logout(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags());
  requireArgs(o, 'logout', 0, 1);
  const key = authKeyOf(domainOfServerAddress(o.args[0] ?? DOCKER_HUB_AUTH_KEY));
  if (await removeAuth(key)) ctx.out(`Removing login credentials for ${key}\n`);
  else ctx.out(`Not logged in to ${key}\n`);
  return 0;
}

/** All of stdin (a pipe, a socket or a file). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
