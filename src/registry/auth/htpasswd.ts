// htpasswd files with bcrypt entries (what `htpasswd -B` writes and what
// Distribution accepts). Successful checks are cached by a SHA-256 of the
// password, because clients using Basic auth send it on every request and a
// bcrypt compare costs tens of milliseconds.
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { invalid } from '../../errdefs.js';

export class Htpasswd {
  private readonly verified = new Set<string>();

  private constructor(private readonly entries: Map<string, string>) {}

  static async load(path: string): Promise<Htpasswd> {
    const text = await readFile(path, 'utf8');
    const entries = new Map<string, string>();
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const colon = line.indexOf(':');
      if (colon <= 0) throw invalid(`${path} line ${i + 1}: want user:bcrypt-hash`);
      const hash = line.slice(colon + 1);
      if (!/^\$2[aby]\$\d\d\$/.test(hash)) throw invalid(`${path} line ${i + 1}: only bcrypt entries are supported (htpasswd -B)`);
      // bcryptjs knows $2a$/$2b$; $2y$ (Apache's name) is the same algorithm.
      entries.set(line.slice(0, colon), hash.replace(/^\$2y\$/, '$2b$'));
    });
    return new Htpasswd(entries);
  }

  async check(user: string, password: string): Promise<boolean> {
    const hash = this.entries.get(user);
    if (!hash) return false;
    const key = `${user}\0${createHash('sha256').update(password).digest('hex')}\0${hash}`;
    if (this.verified.has(key)) return true;
    const ok = await bcrypt.compare(password, hash);
    if (ok) this.verified.add(key);
    return ok;
  }
}

/** User and password from an `Authorization: Basic ...` header, if any. */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
