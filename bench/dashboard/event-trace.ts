// Where "a pod created → its row on screen" spends its time with N pods listed
// (default 1,000, on a hollow node as cluster-scale.ts seeds them): when the
// API server's own watch sends the event (a watch opened here with the admin
// token), when the page's watch through the dashboard receives it, when the
// row is in the DOM and when Playwright sees it, and a Chromium trace of the
// page's main thread in that window (script, style, layout, paint; the long
// tasks). Numbers to read, not a benchmark: `node dist/bench/dashboard/event-trace.js [N]`.
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { startTestServer } from '../../test/cluster/test-server.js';
import { launchBrowser } from '../../test/dashboard/browser.js';
import { dashboardPage, seedHollowPods } from './cluster-scale.js';

interface TraceEvent {
  name: string;
  ph: string;
  dur?: number;
}

/** Main-thread work by kind, in ms: the trace's top-level event names the DevTools timeline groups by. */
const KINDS = ['RunTask', 'FunctionCall', 'TimerFire', 'FireAnimationFrame', 'RunMicrotasks', 'EvaluateScript', 'UpdateLayoutTree', 'Layout', 'PrePaint', 'Paint', 'Layerize', 'MinorGC', 'MajorGC'];

const n = Number(process.argv[2] ?? 1000);
const s = await startTestServer();
const b = await launchBrowser();
try {
  const { ns, create } = await seedHollowPods(s, n);
  const { page, url } = await dashboardPage(b, s);
  const name = `bench-${n}`;
  // In the page: when a fetch body chunk first names the new pod, and when its row enters the DOM.
  await page.addInitScript((watched: string) => {
    const g = globalThis as any;
    g.__seen = {};
    const read = g.ReadableStreamDefaultReader.prototype.read;
    const text = new g.TextDecoder();
    g.ReadableStreamDefaultReader.prototype.read = async function (this: unknown) {
      const r = await read.call(this);
      if (r.value && g.__armed && !g.__seen.chunk && text.decode(r.value).includes(watched)) g.__seen.chunk = Date.now();
      return r;
    };
    new g.MutationObserver(() => {
      if (g.__armed && !g.__seen.row && g.document.querySelector(`tr[data-pod="${watched}"]`)) g.__seen.row = Date.now();
    }).observe(g.document, { childList: true, subtree: true });
  }, name);
  await page.goto(`${url}/#/cluster/pods`);
  await page.locator(`#pods tr[data-pod="bench-0"]`).waitFor({ timeout: 300_000 });
  await new Promise((r) => setTimeout(r, 3000));

  // The API server's own watch, beside the page's.
  const rv = JSON.parse((await s.http('GET', `/api/v1/namespaces/${ns}/pods?limit=1`)).body).metadata.resourceVersion as string;
  const ca = await readFile(join(s.dataDir, 'pki', 'ca.crt'), 'utf8');
  const admin = (await readFile(join(s.dataDir, 'tokens.csv'), 'utf8')).split(',')[0];
  const api = new URL(s.url);
  let apiAt = 0;
  const watch = request({ hostname: api.hostname, port: api.port, path: `/api/v1/pods?watch=1&resourceVersion=${rv}`, ca, headers: { authorization: `Bearer ${admin}` } }, (r) =>
    r.on('data', (c: Buffer) => {
      if (!apiAt && c.toString().includes(name)) apiAt = Date.now();
    }),
  );
  watch.on('error', () => undefined);
  watch.end();
  await new Promise((r) => setTimeout(r, 500));

  const cdp = await b.context.newCDPSession(page);
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (d) => events.push(...(d.value as unknown as TraceEvent[])));
  await cdp.send('Tracing.start', { categories: 'devtools.timeline,v8.execute,disabled-by-default-devtools.timeline', transferMode: 'ReportEvents' });
  await page.evaluate(() => ((globalThis as any).__armed = true));
  const t0 = Date.now();
  await create(n);
  await page.locator(`#pods tr[data-pod="${name}"]`).waitFor({ timeout: 60_000 });
  const shown = Date.now();
  await new Promise((r) => setTimeout(r, 300));
  const complete = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
  await cdp.send('Tracing.end');
  await complete;
  watch.destroy();
  const seen = (await page.evaluate(() => (globalThis as any).__seen)) as { chunk?: number; row?: number };

  const byKind = new Map<string, number>();
  for (const e of events) if (e.ph === 'X' && e.dur && KINDS.includes(e.name)) byKind.set(e.name, (byKind.get(e.name) ?? 0) + e.dur / 1000);
  const since = (t: number | undefined): string => (t ? `${t - t0} ms` : 'not seen');
  const [l1, l5] = loadavg();
  console.log(`A pod created with ${n} pods listed, load average ${l1!.toFixed(2)} / ${l5!.toFixed(2)}:`);
  console.log(`  API server's watch sends it   ${since(apiAt)}`);
  console.log(`  the page's watch receives it  ${since(seen.chunk)}`);
  console.log(`  its row is in the DOM         ${since(seen.row)}`);
  console.log(`  Playwright sees the row       ${since(shown)}`);
  console.log(`Main thread in the traced window (ms): ${[...byKind].map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')}`);
  console.log(`Tasks over 20 ms: ${events.filter((e) => e.name === 'RunTask' && (e.dur ?? 0) > 20_000).map((e) => Math.round(e.dur! / 1000)).join(', ') || 'none'}`);
} finally {
  await b.close();
  await s.stop();
}
