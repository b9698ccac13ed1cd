// Debian's Chromium driven by playwright-core for the dashboard tests: the
// system browser (never a downloaded one), headless, sandbox off (tests run as
// root), no network of its own (no QUIC, sync, component updates), and a fresh
// profile per launch. Console errors and page errors are collected, so a test
// can assert a view raised none.
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const artifactDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test-artifacts/dashboard');

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'tug-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (m) => {
    // The URL too: for a failed load it names the resource (see unexpectedErrors).
    if (m.type() === 'error') errors.push(`${m.text()} @ ${m.location().url}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  await mkdir(artifactDir, { recursive: true });
  return {
    context,
    page,
    errors,
    screenshot: async (name) => {
      await page.screenshot({ path: join(artifactDir, `${name}.png`) });
    },
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Errors other than the browser's own line for an HTTP error answer (a 401/403
 * the test provoked on purpose), a 404 from metrics.k8s.io (a pod or node not
 * scraped yet is NotFound there, as with metrics-server; the page shows no data
 * yet) and ERR_NETWORK_CHANGED: Chromium drops its open connections whenever
 * the machine's interfaces change, which a pod's veth does; the page reconnects
 * its streams (the tests then see it still update).
 */
export const unexpectedErrors = (errors: string[]): string[] =>
  errors.filter(
    (e) =>
      !/Failed to load resource: (the server responded with a status of 40[13]|net::ERR_NETWORK_CHANGED)/.test(e) &&
      !/Failed to load resource: the server responded with a status of 404 .*@ \S*\/apis\/metrics\.k8s\.io\//.test(e),
  );

/** Waits for selector to be visible; on timeout the error carries what the page showed instead. */
export async function see(page: Page, selector: string, timeout = 30_000): Promise<void> {
  try {
    await page.locator(selector).first().waitFor({ timeout });
  } catch (err) {
    const text = await page.locator('body').innerText().catch(() => '(no body)');
    throw new Error(`${(err as Error).message.split('\n')[0]}\npage ${page.url()} shows:\n${text.slice(0, 1500)}`);
  }
}
