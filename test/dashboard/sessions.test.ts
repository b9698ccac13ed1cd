// The dashboard's session store on disk: a session outlives the store that
// made it (a daemon restart), the file is 0600 and holds neither the session
// id nor a user's token in clear, an expired session is dropped at start, and
// a logout is forgotten by the next store too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { SessionStore, IDLE_MS } from '../../src/dashboard/sessions.js';

const requestWith = (id: string): IncomingMessage => ({ headers: { cookie: `other=1; tug_session=${id}` } }) as IncomingMessage;

test('a session survives a new store; the file is private and holds no id or token in clear; logout and expiry drop it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-sessions-'));
  try {
    const first = await SessionStore.open(dir);
    const owner = await first.create({ user: 'owner', engine: true });
    const user = await first.create({ user: 'system:serviceaccount:ns:reader', engine: false, kubeToken: 'eyJ-the-users-own-token' });
    const file = join(dir, 'sessions.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const text = await readFile(file, 'utf8');
    for (const secret of [owner.id, user.id, user.csrf, 'eyJ-the-users-own-token']) assert.ok(!text.includes(secret), `the file does not hold ${secret.slice(0, 6)}…`);

    const second = await SessionStore.open(dir);
    const back = second.fromRequest(requestWith(user.id));
    assert.equal(back?.user, 'system:serviceaccount:ns:reader');
    assert.equal(back?.kubeToken, 'eyJ-the-users-own-token');
    assert.equal(back?.csrf, user.csrf, 'the CSRF token the page holds still matches');
    assert.equal(second.fromRequest(requestWith(owner.id))?.engine, true);
    assert.equal(second.fromRequest(requestWith('A'.repeat(43))), undefined, 'an unknown id is no session');

    await second.delete(owner.id);
    const stored = JSON.parse(await readFile(file, 'utf8')) as { sessions: { hash: string; lastUsed: number }[] };
    assert.equal(stored.sessions.length, 1);
    // A session last used longer ago than the idle limit is dropped when the next store opens.
    stored.sessions[0]!.lastUsed = Date.now() - IDLE_MS - 60_000;
    await writeFile(file, JSON.stringify(stored), { mode: 0o600 });
    const third = await SessionStore.open(dir);
    assert.equal(third.fromRequest(requestWith(owner.id)), undefined, 'logged out stays logged out');
    assert.equal(third.fromRequest(requestWith(user.id)), undefined, 'expired');
    assert.deepEqual((JSON.parse(await readFile(file, 'utf8')) as { sessions: unknown[] }).sessions, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
