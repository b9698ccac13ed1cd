// Registry credentials in Docker's config.json ($DOCKER_CONFIG/config.json, else
// ~/.docker/config.json): {"auths": {"host:port": {"auth": base64("user:pass")}}}.
// Other fields of the file are kept as they are, so the docker CLI and tug can share it.
// Here, below both of its users: the CLI (`tug login`/`logout`, and the
// X-Registry-Auth header of pulls and pushes) and the dashboard's registry view,
// which reads the registry with the daemon owner's stored credentials.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { mkdir } from 'node:fs/promises';

export interface StoredAuth {
  username: string;
  password: string;
  serveraddress: string;
}

interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string; [k: string]: unknown }>;
  [k: string]: unknown;
}

export function dockerConfigPath(): string {
  return join(process.env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
}

async function readConfig(): Promise<ConfigFile> {
  try {
    return JSON.parse(await readFile(dockerConfigPath(), 'utf8')) as ConfigFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read ${dockerConfigPath()}: ${(err as Error).message}`);
  }
}

async function writeConfig(cfg: ConfigFile): Promise<void> {
  const path = dockerConfigPath();
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  // 0600: the file holds passwords.
  await writeFileAtomic(path, JSON.stringify(cfg, null, '\t') + '\n', 0o600);
}

/** The entry for `key`, also found when it was stored with a scheme ("https://host:port"). */
function findKey(auths: NonNullable<ConfigFile['auths']>, key: string): string | undefined {
  if (auths[key]) return key;
  const strip = (k: string): string => k.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  const bare = strip(key);
  return Object.keys(auths).find((k) => strip(k) === bare);
}

export async function loadAuth(key: string): Promise<StoredAuth | undefined> {
  const auths = (await readConfig()).auths ?? {};
  const k = findKey(auths, key);
  const entry = k ? auths[k] : undefined;
  if (!entry?.auth) return undefined;
  const text = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1), serveraddress: key };
}

export async function saveAuth(key: string, username: string, password: string): Promise<void> {
  const cfg = await readConfig();
  cfg.auths ??= {};
  const existing = findKey(cfg.auths, key);
  if (existing && existing !== key) delete cfg.auths[existing];
  cfg.auths[key] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  await writeConfig(cfg);
}

/** Removes the entry; false when there was none. */
export async function removeAuth(key: string): Promise<boolean> {
  const cfg = await readConfig();
  const k = cfg.auths ? findKey(cfg.auths, key) : undefined;
  if (!k) return false;
  delete cfg.auths![k];
  await writeConfig(cfg);
  return true;
}
