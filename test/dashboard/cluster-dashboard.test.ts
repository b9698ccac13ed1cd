// The cluster dashboard in a real browser against a real `tug server` with
// its node agent, kubectl as the other side: a new Deployment's pod appears
// and becomes Ready without a reload, scaling from the page is what kubectl
// then sees, a node plot has points, pod logs and exec work; a ServiceAccount
// without any RBAC binding sees 403 views and cannot act; a forged POST
// without the CSRF token is refused; Secret values stay hidden unless asked.
// The overview plots the API server's request rate and latency (a user
// without the monitoring rights sees its 403 there); a pod's and the node's
// network plots move with traffic.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startE2eCluster, hex, type E2eCluster } from '../cluster-e2e/e2e-cluster.js';
import { leftovers } from '../cluster-agent/agent-cluster.js';
import { tugBin } from '../helpers/tug-daemon.js';
import { runCommand } from '../helpers/run-command.js';
import { launchBrowser, see, unexpectedErrors, type TestBrowser } from './browser.js';

let c: E2eCluster;
let url: string;
let browser: TestBrowser;
const ns = `dash-${hex(3)}`;

before(async () => {
  c = await startE2eCluster();
  url = (await readFile(join(c.dataDir, 'dashboard', 'url'), 'utf8')).trim();
  await c.kubectl(['create', 'namespace', ns]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (!c) return;
  await c.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { allowFailure: true });
  const { dataDir, net } = c;
  await c.stop();
  assert.deepEqual(await leftovers(dataDir, net), []);
});

const replicas = async (): Promise<string> => (await c.kubectl(['-n', ns, 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}'])).stdout.trim();

test('log in with a one-time link; a new Deployment\'s pod appears and becomes Ready without a reload', async () => {
  const link = (await runCommand(process.execPath, [tugBin, 'dashboard', '--data-dir', c.dataDir, '--no-open'])).stdout.trim();
  const page = browser.page;
  await page.goto(link);
  await see(page, 'header #user:has-text("owner")');
  await page.goto(`${url}/#/cluster/pods`);
  await see(page, '#pods');
  let navigations = 0;
  page.on('framenavigated', () => navigations++);
  await c.kubectl(['-n', ns, 'create', 'deployment', 'web', '--image=busybox', '--', 'sh', '-c', 'i=0; while true; do echo pod-tick-$i; i=$((i+1)); sleep 0.3; done']);
  await see(page, `#pods tr[data-pod^="web-"]`, 120_000);
  await see(page, `#pods tr[data-pod^="web-"][data-status="Running"]`, 120_000);
  assert.equal(navigations, 0, 'the page did not reload');
  await browser.screenshot('cluster-pods');
  await page.goto(`${url}/#/cluster/overview`);
  await see(page, '#nodes-ready:has-text("1/1")');
  // The page's own watches and lists are API requests: the rate plot has points above zero.
  await page.waitForFunction(() => {
    const f = (globalThis as any).document.querySelector('figure.plot[data-title="API requests/s"]');
    return f && Number(f.dataset.points) >= 2 && Number(f.dataset.max) > 0;
  }, undefined, { timeout: 60_000 });
  assert.ok(Number(await page.locator('figure.plot[data-title^="API latency"]').getAttribute('data-points')) >= 2);
  await browser.screenshot('cluster-overview');
  assert.deepEqual(unexpectedErrors(browser.errors), []);
});

test('scale from the page: kubectl agrees, and the new pod shows up', async () => {
  const page = browser.page;
  await page.goto(`${url}/#/cluster/workloads`);
  await see(page, '#deployments tr[data-deployment="web"][data-ready="1/1"]');
  await page.locator('#deployments tr[data-deployment="web"] button[data-action="+"]').click();
  await see(page, '#deployments tr[data-deployment="web"][data-ready="2/2"]', 120_000);
  assert.equal(await replicas(), '2');
  await browser.screenshot('cluster-workloads');
  await page.locator('#deployments tr[data-deployment="web"] button[data-action="−"]').click();
  await see(page, '#deployments tr[data-deployment="web"][data-ready="1/1"]', 120_000);
  assert.equal(await replicas(), '1');
  assert.deepEqual(unexpectedErrors(browser.errors), []);
});

test('a pod: logs follow, exec runs what is typed, its plot and the node plot get points', async () => {
  const page = browser.page;
  const pod = (await c.kubectl(['-n', ns, 'get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout.trim();
  await page.goto(`${url}/#/cluster/pods/${ns}/${pod}/logs`);
  await see(page, 'pre.log-lines:has-text("pod-tick-")');
  await page.goto(`${url}/#/cluster/pods/${ns}/${pod}/exec`);
  await see(page, '.terminal-status:has-text("connected")');
  await page.locator('.term-box').click();
  await page.keyboard.type('echo pod-$((6*7))\n');
  await see(page, '.term-box .xterm-rows:has-text("pod-42")');
  // Traffic while the plots poll: the pod pings its gateway (the node's bridge) with big packets.
  const ping = c.kubectl(['-n', ns, 'exec', pod, '--', 'sh', '-c', 'ping -c 60 -i 0.25 -s 1200 $(ip route | awk \'/default/ {print $3}\')'], { allowFailure: true });
  await page.goto(`${url}/#/cluster/pods/${ns}/${pod}/overview`);
  const moved = (title: string) => page.waitForFunction((t) => {
    const f = (globalThis as any).document.querySelector(`figure.plot[data-title="${t}"]`);
    return f && Number(f.dataset.points) >= 3 && Number(f.dataset.max) > 1000;
  }, title, { timeout: 60_000 });
  await moved('pod network');
  await browser.screenshot('cluster-pod-network');
  await page.goto(`${url}/#/cluster/nodes`);
  await page.waitForFunction(() => [...(globalThis as any).document.querySelectorAll('figure.plot')].some((f: any) => Number(f.dataset.points) >= 3), undefined, { timeout: 60_000 });
  const node = (await c.kubectl(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout.trim();
  await moved(`${node} network`);
  await browser.screenshot('cluster-nodes');
  await ping;
  await page.goto(`${url}/#/cluster/pods/${ns}/not-a-pod`);
  await see(page, '.gone:has-text("no longer exists")');
  assert.deepEqual(unexpectedErrors(browser.errors), []);
});

test('a ServiceAccount without RBAC sees 403 views and cannot scale', async () => {
  await c.kubectl(['-n', ns, 'create', 'serviceaccount', 'nobody']);
  const token = (await c.kubectl(['-n', ns, 'create', 'token', 'nobody'])).stdout.trim();
  const ctx = await browser.context.browser()?.newContext();
  const page = ctx ? await ctx.newPage() : await browser.context.newPage();
  if (!ctx) await browser.context.clearCookies();
  await page.goto(`${url}/#/login`);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await see(page, `header #user:has-text("system:serviceaccount:${ns}:nobody")`);
  await page.goto(`${url}/#/cluster/workloads`);
  await see(page, '.error[data-status="403"]:has-text("Forbidden")');
  assert.equal(await page.locator('#deployments tr[data-deployment="web"]').count(), 0);
  // The API server's metrics need get on /metrics (system:monitoring): the panel says so.
  await page.goto(`${url}/#/cluster/overview`);
  await see(page, '#apiserver-metrics .error[data-status="403"]:has-text("system:monitoring")');
  await browser.screenshot('cluster-forbidden');
  // No engine either: the daemon's owner token is the only way to the engine.
  const csrf = ((await (await page.request.get(`${url}/api/session`)).json()) as { csrf: string; engine: boolean }).csrf;
  assert.equal((await page.request.get(`${url}/api/engine/containers/json`)).status(), 403);
  const scaled = await page.request.patch(`${url}/api/kube/apis/apps/v1/namespaces/${ns}/deployments/web/scale`, { headers: { 'x-csrf-token': csrf, 'content-type': 'application/merge-patch+json' }, data: JSON.stringify({ spec: { replicas: 5 } }) });
  assert.equal(scaled.status(), 403);
  assert.equal(await replicas(), '1');
  await page.close();
  await ctx?.close();
});

test('a forged POST without the CSRF token is refused; Secret values are hidden unless asked', async () => {
  const session = (await browser.context.cookies(url)).find((k) => k.name === 'tug_session');
  assert.ok(session);
  const cookie = `tug_session=${session.value}`;
  const forged = await fetch(`${url}/api/kube/apis/apps/v1/namespaces/${ns}/deployments/web/scale`, { method: 'PATCH', headers: { cookie, 'content-type': 'application/merge-patch+json' }, body: JSON.stringify({ spec: { replicas: 4 } }) });
  assert.equal(forged.status, 403);
  assert.equal(await replicas(), '1');
  await c.kubectl(['-n', ns, 'create', 'secret', 'generic', 'pw', '--from-literal=password=hunter2']);
  const hidden = (await (await fetch(`${url}/api/kube/api/v1/namespaces/${ns}/secrets/pw`, { headers: { cookie } })).json()) as { data: Record<string, string> };
  assert.deepEqual(hidden.data, { password: '' });
  const list = await (await fetch(`${url}/api/kube/api/v1/namespaces/${ns}/secrets`, { headers: { cookie } })).text();
  assert.doesNotMatch(list, new RegExp(Buffer.from('hunter2').toString('base64')));
  const shown = (await (await fetch(`${url}/api/kube/api/v1/namespaces/${ns}/secrets/pw?showSecretValues=1`, { headers: { cookie } })).json()) as { data: Record<string, string> };
  assert.equal(Buffer.from(shown.data.password!, 'base64').toString(), 'hunter2');
});
