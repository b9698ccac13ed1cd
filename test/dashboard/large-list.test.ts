// A long list in a real browser (Debian's Chromium): 1,000 pods on a `tug
// server` (bound to a hollow Node object with no agent, as the dashboard
// benchmark does, so they stay Pending and cost no containers). The pods view
// draws only the rows in view, so what is checked is what a user sees: the
// list says it holds every pod, a pod created or deleted shows at once, the
// End key brings the last rows into view (and a pod created there), the
// filter finds one pod among the thousand, and no console errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../cluster/test-server.js';
import { launchBrowser, see, unexpectedErrors, type TestBrowser } from './browser.js';

const COUNT = 1000;
const ns = 'many';
const hollowNode = 'hollow-0';
const nameOf = (i: number): string => `p-${String(i).padStart(4, '0')}`;

let s: TestServer;
let browser: TestBrowser;
let url: string;

async function must(method: string, path: string, body?: unknown): Promise<void> {
  const r = await s.http(method, path, { body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
}

const createPod = (name: string): Promise<void> =>
  must('POST', `/api/v1/namespaces/${ns}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { nodeName: hollowNode, containers: [{ name: 'c', image: 'busybox' }], tolerations: [{ operator: 'Exists', effect: 'NoExecute' }] },
  });

before(async () => {
  s = await startTestServer();
  await must('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: hollowNode } });
  await must('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < COUNT) await createPod(nameOf(next++));
    }),
  );
  url = (await readFile(join(s.dataDir, 'dashboard', 'url'), 'utf8')).trim();
  const token = (await readFile(join(s.dataDir, 'dashboard', 'token'), 'utf8')).trim();
  browser = await launchBrowser();
  const login = await browser.page.request.post(`${url}/api/login`, { data: { token }, headers: { 'content-type': 'application/json' } });
  assert.ok(login.ok(), `login: ${login.status()}`);
});

after(async () => {
  await browser?.close();
  await s?.stop();
});

const rowsInDom = (): Promise<number> => browser.page.locator('#pods tbody tr[data-pod]').count();

/** Waits until pod name's row is inside the window (drawn, and scrolled to: the End key scrolls smoothly). */
async function inWindow(name: string): Promise<void> {
  await see(browser.page, `#pods tr[data-pod="${name}"]`);
  await browser.page.waitForFunction(
    (n) => {
      const r = (globalThis as any).document.querySelector(`#pods tr[data-pod="${n}"]`)?.getBoundingClientRect();
      return !!r && r.top >= 0 && r.bottom <= (globalThis as any).innerHeight;
    },
    name,
    { timeout: 30_000 },
  );
}

test('a thousand pods: the list holds them all, draws those in view, and shows a new pod and a deleted one at once', async () => {
  const page = browser.page;
  await page.goto(`${url}/#/cluster/pods`);
  await see(page, `#pods[data-total="${COUNT}"]`, 120_000);
  await see(page, `#pods tr[data-pod="${nameOf(0)}"]`);
  const drawn = await rowsInDom();
  assert.ok(drawn > 0 && drawn < COUNT, `rows in the DOM: ${drawn} of ${COUNT}`);
  await see(page, 'h2:has-text("Pods") .muted:text-is("1000")');

  // "a-new" sorts before every p-NNNN: it appears at the top of the open list.
  await createPod('a-new');
  await inWindow('a-new');
  await see(page, `#pods[data-total="${COUNT + 1}"]`);
  assert.equal(await page.locator('#pods tbody tr[data-pod]').first().getAttribute('data-pod'), 'a-new');

  // A pod deleted (at once: no grace period, no agent to wait for) leaves the list.
  await must('DELETE', `/api/v1/namespaces/${ns}/pods/${nameOf(1)}?gracePeriodSeconds=0`);
  await page.locator(`#pods tr[data-pod="${nameOf(1)}"]`).waitFor({ state: 'detached' });
  await see(page, `#pods[data-total="${COUNT}"]`);
  assert.deepEqual(unexpectedErrors(browser.errors), []);
});

test('the End key brings the last rows into view, and a pod created at the end shows there', async () => {
  const page = browser.page;
  await page.locator('h2:has-text("Pods")').click();
  await page.keyboard.press('End');
  await inWindow(nameOf(COUNT - 1));
  await inWindow(nameOf(COUNT - 2));
  assert.equal(await page.locator('#pods tbody tr[data-pod]').last().getAttribute('data-pod'), nameOf(COUNT - 1));
  // The first rows have left the DOM: the list still draws only what is in view.
  assert.equal(await page.locator(`#pods tr[data-pod="${nameOf(0)}"]`).count(), 0);
  assert.ok((await rowsInDom()) < COUNT);
  await browser.screenshot('pods-1000-end');

  // "z-new" sorts after every p-NNNN: the new last row, drawn below the one in view, and in view after End again.
  await createPod('z-new');
  await see(page, '#pods tr[data-pod="z-new"]');
  await page.keyboard.press('End');
  await inWindow('z-new');
  assert.equal(await page.locator('#pods tbody tr[data-pod]').last().getAttribute('data-pod'), 'z-new');
  await page.keyboard.press('Home');
  await inWindow('a-new');
  assert.deepEqual(unexpectedErrors(browser.errors), []);
});

test('the filter finds one pod among the thousand; clearing it brings the whole list back', async () => {
  const page = browser.page;
  await page.locator('#pods-filter').fill(nameOf(500));
  await see(page, '#pods[data-total="1"]');
  assert.deepEqual(await page.locator('#pods tbody tr[data-pod]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-pod'))), [nameOf(500)]);
  await page.locator('#pods-filter').fill('');
  await see(page, `#pods[data-total="${COUNT + 1}"]`);
  assert.deepEqual(unexpectedErrors(browser.errors), []);
});
