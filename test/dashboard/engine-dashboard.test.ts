// The engine dashboard in a real browser (Debian's Chromium) against a real
// tug daemon, with the docker CLI as the other side: log in, see a container
// the CLI started appear without a reload, stop it from the page and have
// `docker ps` agree, follow its logs, type in the exec terminal, see a plot
// with points; a wrong or missing token gets the login page and no data; a
// forged POST without the CSRF token is refused; the Registry view lists an
// image pushed to an htpasswd-protected registry (read with the owner's `tug
// login` credentials) with a pull command that works; a container's network
// plot moves with traffic; a session survives a daemon restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, stat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { startTestDaemon, tugBin, type TestDaemon } from '../helpers/tug-daemon.js';
import { startTestRegistry, type TestRegistry } from '../registry/helpers.js';
import { runCommand } from '../helpers/run-command.js';
import { launchBrowser, see, unexpectedErrors, type TestBrowser } from './browser.js';


let d: TestDaemon;
let url: string;
let browser: TestBrowser;
let reg: TestRegistry;
let dir: string;

const docker = async (...args: string[]): Promise<string> => {
  const r = await runCommand('docker', args, { env: d.env });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

const tug = async (...args: string[]): Promise<string> => {
  const r = await runCommand(process.execPath, [tugBin, ...args], { env: d.env });
  assert.equal(r.code, 0, `tug ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tug-dash-engine-'));
  const htpasswd = join(dir, 'htpasswd');
  await writeFile(htpasswd, `hubuser:${bcrypt.hashSync('hub-s3cret', 6)}\n`);
  reg = await startTestRegistry({ htpasswdFile: htpasswd });
  // The daemon reads the registry with the credentials `tug login` stores, from the config the CLI writes.
  process.env.DOCKER_CONFIG = join(dir, 'docker-config');
  d = await startTestDaemon(['--ui-registry', reg.hostPort]);
  url = (await readFile(join(d.root, 'dashboard', 'url'), 'utf8')).trim();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await d?.stop();
  await reg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a missing or wrong token gets the login page and no data', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${url}/#/engine/containers`);
  await see(page, '#login');
  assert.equal(await page.locator('table').count(), 0);
  await page.fill('#token', 'not-the-token');
  await page.click('button[type=submit]');
  await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
  assert.equal(await page.locator('table').count(), 0);
  const res = await page.request.get(`${url}/api/engine/containers/json`);
  assert.equal(res.status(), 401);
  await page.close();
});

test('log in with the daemon token; a one-time ticket works once', async () => {
  const link = (await runCommand(process.execPath, [tugBin, 'dashboard', '--root', d.root, '--no-open'])).stdout.trim();
  assert.match(link, /\/login\?ticket=/);
  const page = browser.page;
  await page.goto(link);
  await see(page, 'header #user:has-text("owner")');
  // The second use of the same ticket is refused.
  const again = await browser.context.browser()?.newContext();
  if (again) {
    const p2 = await again.newPage();
    await p2.goto(link);
    await see(p2, '#login');
    await again.close();
  }
  const token = (await readFile(join(d.root, 'dashboard', 'token'), 'utf8')).trim();
  const p3 = await browser.context.newPage();
  await p3.goto(`${url}/#/login`);
  await p3.fill('#token', token);
  await p3.click('button[type=submit]');
  await see(p3, '#containers, .muted:has-text("No containers yet")');
  await p3.close();
});

test('a container started with the docker CLI appears without a reload, and stopping it from the page stops it', async () => {
  const page = browser.page;
  await page.goto(`${url}/#/engine/containers`);
  await see(page, 'h2:has-text("Containers")');
  let navigations = 0;
  page.on('framenavigated', () => navigations++);
  await docker('run', '-d', '--name', 'dash-web', '-p', '127.0.0.1::80', 'busybox', 'sh', '-c', 'i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done');
  const row = page.locator('tr[data-container="dash-web"]');
  await see(page, 'tr[data-container="dash-web"] .badge:has-text("running")');
  assert.equal(navigations, 0, 'the page did not reload');
  // Ports are links; a sparkline draws once stats have two points.
  assert.match((await row.locator('td:nth-child(4) a').getAttribute('href')) ?? '', /^http:\/\/127\.0\.0\.1:\d+\/$/);
  await see(page, 'tr[data-container="dash-web"] .spark svg');
  await browser.screenshot('engine-containers');
  await row.locator('button[data-action=stop]').click();
  await see(page, 'tr[data-container="dash-web"][data-state="exited"]');
  assert.equal(await docker('ps', '-q', '--filter', 'name=dash-web'), '');
  assert.match(await docker('ps', '-a', '--filter', 'name=dash-web', '--format', '{{.State}}'), /exited/);
  await docker('start', 'dash-web');
  await see(page, 'tr[data-container="dash-web"][data-state="running"]');
  assert.deepEqual(unexpectedErrors(browser.errors), []);
});

test('logs follow live and search filters them; the exec terminal runs what is typed; a plot has points', async () => {
  const page = browser.page;
  const id = await docker('inspect', '-f', '{{.Id}}', 'dash-web');
  await page.goto(`${url}/#/engine/containers/${id}/logs`);
  const logs = page.locator('pre.log-lines');
  await logs.filter({ hasText: 'tick-' }).waitFor();
  const first = (await logs.textContent())!.split('\n').length;
  await page.waitForFunction((n) => (globalThis as any).document.querySelector('pre.log-lines').textContent.split('\n').length > n, first);
  await page.fill('input[type=search]', 'tick-3');
  const filtered = (await logs.textContent())!.split('\n').filter(Boolean);
  assert.ok(filtered.length > 0 && filtered.every((l) => l.includes('tick-3')), filtered.join('|'));
  await browser.screenshot('engine-logs');

  await page.goto(`${url}/#/engine/containers/${id}/exec`);
  await see(page, '.terminal-status:has-text("connected")');
  await page.locator('.term-box').click();
  await page.keyboard.type('echo dash-$((6*7))\n');
  await see(page, '.term-box .xterm-rows:has-text("dash-42")');
  await browser.screenshot('engine-exec');

  await page.goto(`${url}/#/engine/containers/${id}/overview`);
  await page.waitForFunction(() => Number((globalThis as any).document.querySelector('figure.plot[data-title="CPU %"]')?.dataset.points ?? 0) >= 3);
  // Traffic: the container pings its gateway (the bridge this test's daemon made) with big packets.
  const gateway = await docker('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.Gateway}}{{end}}', 'dash-web');
  await docker('exec', 'dash-web', 'ping', '-c', '15', '-i', '0.2', '-s', '1200', gateway);
  await page.waitForFunction(() => {
    const f = (globalThis as any).document.querySelector('figure.plot[data-title="network"]');
    return f && Number(f.dataset.points) >= 3 && Number(f.dataset.max) > 1000;
  });
  await browser.screenshot('engine-container-plots');
  assert.deepEqual(unexpectedErrors(browser.errors), []);
});

test('images show their layers; volumes and networks list', async () => {
  const page = browser.page;
  await docker('volume', 'create', 'dash-vol');
  await page.goto(`${url}/#/engine/images`);
  const row = page.locator('#images tr', { hasText: 'busybox' }).first();
  await row.locator('button:has-text("layers")').click();
  await page.locator('table.layers tbody tr').first().waitFor();
  await page.goto(`${url}/#/engine/volumes`);
  await see(page, '#volumes td.mono:text-is("dash-vol")');
  await page.goto(`${url}/#/engine/networks`);
  await page.locator('#networks td:has-text("bridge")').first().waitFor();
  assert.deepEqual(unexpectedErrors(browser.errors), []);
});

test('a container removed elsewhere says it is gone', async () => {
  const page = browser.page;
  const id = await docker('inspect', '-f', '{{.Id}}', 'dash-web');
  await page.goto(`${url}/#/engine/containers/${id}/overview`);
  await see(page, 'h2:has-text("dash-web")');
  await docker('rm', '-f', 'dash-web');
  await see(page, '.gone:has-text("no longer exists")');
  await page.goto(`${url}/#/engine/containers/0123456789ab`);
  await see(page, '.gone:has-text("No such container")');
});

test('a POST without the CSRF token is refused; with it, it is not', async () => {
  const cookies = await browser.context.cookies(url);
  const session = cookies.find((c) => c.name === 'tug_session');
  assert.ok(session, 'logged-in session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  const cookie = `tug_session=${session.value}`;
  const name = 'dash-csrf';
  await docker('create', '--name', name, 'busybox', 'true');
  const forged = await fetch(`${url}/api/engine/containers/${name}/start`, { method: 'POST', headers: { cookie } });
  assert.equal(forged.status, 403);
  assert.match(await docker('inspect', '-f', '{{.State.Status}}', name), /created/);
  const wrong = await fetch(`${url}/api/engine/containers/${name}/start`, { method: 'POST', headers: { cookie, 'x-csrf-token': 'guess' } });
  assert.equal(wrong.status, 403);
  const csrf = ((await (await fetch(`${url}/api/session`, { headers: { cookie } })).json()) as { csrf: string }).csrf;
  const crossSite = await fetch(`${url}/api/engine/containers/${name}/start`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, origin: 'http://evil.example' } });
  assert.equal(crossSite.status, 403);
  const ok = await fetch(`${url}/api/engine/containers/${name}/start`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } });
  assert.equal(ok.status, 204);
  await docker('rm', '-f', name);
});

test('the Registry view lists a pushed image with its tag, digest and a pull command that copies and works', async () => {
  const page = browser.page;
  browser.errors.length = 0; // the 404s the gone-container test provoked on purpose
  await page.goto(`${url}/#/engine/registry`);
  // Before a login the daemon owner has no credentials for the registry: its refusal shows, not a blank.
  await see(page, `.error[data-status="403"]:has-text("tug login ${reg.hostPort}")`);
  const login = await runCommand(process.execPath, [tugBin, 'login', '-u', 'hubuser', '--password-stdin', reg.hostPort], { env: d.env, input: 'hub-s3cret\n' });
  assert.equal(login.code, 0, login.stderr);
  const ref = `${reg.hostPort}/dash/busybox:v1`;
  await docker('tag', 'busybox', ref);
  await tug('push', ref);
  const digest = (await docker('inspect', '-f', '{{index .RepoDigests 0}}', ref)).split('@')[1]!;
  assert.match(digest, /^sha256:[0-9a-f]{64}$/);
  await page.locator('button:has-text("refresh")').click();
  const row = page.locator('#hub tr[data-repo="dash/busybox"][data-tag="v1"]');
  await see(page, '#hub tr[data-repo="dash/busybox"][data-tag="v1"]');
  assert.equal(await row.getAttribute('data-digest'), digest);
  assert.match((await row.locator('td:nth-child(4)').textContent()) ?? '', /\d+(\.\d)? (kB|MB)/);
  assert.match((await row.locator('td:nth-child(5)').textContent()) ?? '', /ago/);
  const command = await row.locator('input.pull-command').inputValue();
  assert.equal(command, `tug pull ${ref}`);
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
  await row.locator('button[data-action=copy]').click();
  await see(page, '#hub tr[data-repo="dash/busybox"] button:has-text("copied")');
  assert.equal(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText()), command);
  await browser.screenshot('engine-registry');
  // The copied command pulls the image.
  await docker('rmi', ref);
  await tug(...command.split(' ').slice(1));
  assert.equal((await docker('inspect', '-f', '{{index .RepoDigests 0}}', ref)).split('@')[1], digest);
  assert.deepEqual(unexpectedErrors(browser.errors), []);
});

test('a session survives a daemon restart; the session file is private; expired sessions are dropped', async () => {
  const page = browser.page;
  const file = join(d.root, 'dashboard', 'sessions.json');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const cookie = (await browser.context.cookies(url)).find((c) => c.name === 'tug_session')!;
  assert.ok(!(await readFile(file, 'utf8')).includes(cookie.value), 'the file keeps hashes, not session ids');
  await d.crash();
  // An expired session left in the file is dropped when the daemon starts again.
  const stored = JSON.parse(await readFile(file, 'utf8')) as { sessions: { hash: string; user: string; engine: boolean; lastUsed: number }[] };
  stored.sessions.push({ hash: 'f'.repeat(64), user: 'owner', engine: true, lastUsed: Date.now() - 13 * 3600_000 });
  await writeFile(file, JSON.stringify(stored), { mode: 0o600 });
  await d.restart();
  url = (await readFile(join(d.root, 'dashboard', 'url'), 'utf8')).trim();
  await page.goto(`${url}/#/engine/containers`);
  await see(page, 'header #user:has-text("owner")');
  await see(page, 'h2:has-text("Containers")');
  assert.equal(await page.locator('#login').count(), 0);
  // And it may still act (its CSRF token is the same after the restart).
  const name = 'dash-after-restart';
  await docker('create', '--name', name, 'busybox', 'true');
  await page.goto(`${url}/#/engine/containers`);
  await page.locator(`tr[data-container="${name}"] button[data-action=start]`).click();
  await see(page, `tr[data-container="${name}"][data-state="exited"]`);
  await docker('rm', '-f', name);
  const after = (JSON.parse(await readFile(file, 'utf8')) as { sessions: { hash: string }[] }).sessions;
  assert.ok(!after.some((x) => x.hash === 'f'.repeat(64)), 'the expired session is gone from the file');
  assert.deepEqual(unexpectedErrors(browser.errors), []);
});
