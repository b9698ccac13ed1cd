// The cluster half of the dashboard benchmark at issue 16's scale: 1,000 pods.
// A 2-core machine cannot run 1,000 real pods, so the pods are bound to a
// hollow Node object (spec.nodeName set, no agent: they stay Pending and
// are never run; a toleration keeps the node lifecycle controller from
// evicting them when the node's status goes Unknown). What the page costs is
// the same: it lists and watches 1,000 pod objects through the dashboard. A
// `tug server --no-agent` serves both API and dashboard in one process; its
// CPU and memory are sampled with the pods view closed and then open.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../../test/cluster/test-server.js';
import type { TestBrowser } from '../../test/dashboard/browser.js';
import { sample } from './process-cost.js';

export interface ClusterScaleResult {
  pods: number;
  createSeconds: number;
  /** Opening #/cluster/pods to all rows shown. */
  listMs: number;
  /** A jump to the end of the open list → its last row shown. */
  endMs: number;
  /** A pod created with the page open → its row shown (median of runs). */
  eventMs: number;
  closed: { cpu: number; rssMb: number };
  open: { cpu: number; rssMb: number };
}

const hollowNode = 'hollow-0';

/** The name that sorts last among bench-0 … bench-(n-1), as the page orders them (bench-999 of 1,000). */
function lastName(n: number): string {
  const names = Array.from({ length: n }, (_, i) => `bench-${i}`).sort((x, y) => x.localeCompare(y));
  return names[n - 1] ?? '';
}

function pod(ns: string, i: number): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `bench-${i}`, namespace: ns, labels: { app: 'bench' } },
    spec: {
      nodeName: hollowNode,
      containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1d'], resources: { requests: { cpu: '1m', memory: '1Mi' } } }],
      tolerations: [{ operator: 'Exists', effect: 'NoExecute' }],
    },
  });
}

/** The server's pods: a hollow node, a namespace and n pods bench-0 … bench-(n-1) bound to it (16 POSTs at a time); create(i) adds bench-i. */
export async function seedHollowPods(s: TestServer, n: number): Promise<{ ns: string; createSeconds: number; create: (i: number) => Promise<void> }> {
  const must = async (method: string, path: string, body: string): Promise<void> => {
    const r = await s.http(method, path, { body, headers: { 'content-type': 'application/json' } });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
  };
  await must('POST', '/api/v1/nodes', JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: hollowNode }, status: { capacity: { cpu: '1000', memory: '4000Gi', pods: '5000' }, allocatable: { cpu: '1000', memory: '4000Gi', pods: '5000' } } }));
  const ns = 'dash-bench';
  await must('POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }));
  const create = (i: number): Promise<void> => must('POST', `/api/v1/namespaces/${ns}/pods`, pod(ns, i));
  const t0 = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < n) await create(next++);
    }),
  );
  return { ns, createSeconds: (Date.now() - t0) / 1000, create };
}

/** A page of b logged in to s's dashboard (with its own token), at about:blank; and the dashboard's URL. */
export async function dashboardPage(b: TestBrowser, s: TestServer): Promise<{ page: Page; url: string }> {
  const url = (await readFile(join(s.dataDir, 'dashboard', 'url'), 'utf8')).trim();
  const token = (await readFile(join(s.dataDir, 'dashboard', 'token'), 'utf8')).trim();
  const page = await b.context.newPage();
  const login = await page.request.post(`${url}/api/login`, { data: { token }, headers: { 'content-type': 'application/json' } });
  if (!login.ok()) throw new Error(`login: ${login.status()}`);
  await page.goto('about:blank');
  return { page, url };
}

export async function clusterScale(b: TestBrowser, pods: number, runs: number): Promise<ClusterScaleResult> {
  const s = await startTestServer();
  try {
    const { createSeconds, create } = await seedHollowPods(s, pods);
    const { page, url } = await dashboardPage(b, s);
    await new Promise((r) => setTimeout(r, 3000));
    const closed = await sample(s.pid, 20);
    const t1 = Date.now();
    await page.goto(`${url}/#/cluster/pods`);
    // Every pod listed: a page that draws only the rows in view says how many it has (data-total); an older one drew them all.
    await page.waitForFunction(
      (n) => {
        const t = (globalThis as any).document.querySelector('#pods');
        const rows = t ? t.querySelectorAll('tbody tr[data-pod]').length : 0;
        return rows >= n || (rows > 0 && Number(t.dataset.total) >= n);
      },
      pods,
      { timeout: 300_000 },
    );
    const listMs = Date.now() - t1;
    // The end of the list: the last pod (names sort as strings: bench-999) shown after a jump to the page's end.
    const t3 = Date.now();
    await page.evaluate(() => (globalThis as any).scrollTo(0, (globalThis as any).document.documentElement.scrollHeight));
    await page.locator(`#pods tr[data-pod="${lastName(pods)}"]`).waitFor({ timeout: 60_000 });
    const endMs = Date.now() - t3;
    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
    // Pods bench-1000, bench-1001, … sort into the first screen (after bench-100), so the row is in view.
    const eventTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t2 = Date.now();
      const seen = page.locator(`#pods tr[data-pod="bench-${pods + i}"]`).waitFor({ timeout: 60_000 });
      await create(pods + i);
      await seen;
      eventTimes.push(Date.now() - t2);
    }
    const eventMs = [...eventTimes].sort((a, b) => a - b)[Math.floor(runs / 2)]!;
    await new Promise((r) => setTimeout(r, 5000));
    const open = await sample(s.pid, 20);
    await page.close();
    return { pods, createSeconds, listMs, endMs, eventMs, closed, open };
  } finally {
    await s.stop();
  }
}
