/**
 * The operator console end to end, in headless Chromium: real Redis, the workers as processes, the
 * gateway on a real port. An operator signs in with an API key, drops files, watches them ingest,
 * asks, opens the cited passage, retries a failed document, runs a batch and reads an eval report
 * (stages side by side, exported); every view passes an axe-core accessibility check, and
 * screenshots go to `test-output/console/`. The failed-documents
 * API behind it is checked over HTTP (happy, error and security cases).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Producer, QUEUES } from '@quire/jobs';
import {
  cleanupPrefix,
  getTestRedis,
  makePdf,
  makeTempDir,
  makeTruncatedPdf,
  type SpawnedProcess,
  type TempDir,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@quire/testkit';
import axe from 'axe-core';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth.js';
import { CONSOLE_CSP } from '../src/console.js';
import { type RunningGateway, startGateway, startWorker } from './harness.js';

const KEYS = { acme: 'acme-console-key', globex: 'globex-console-key' };
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = new URL('../test-output/console/', import.meta.url);

let redis: TestRedis;
let tmp: TempDir;
let prefix: string;
let shared: string;
let workers: SpawnedProcess[] = [];
let gateway: RunningGateway;
let producer: Producer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  redis = await getTestRedis();
  tmp = await makeTempDir('console-e2e');
  prefix = uniquePrefix('console');
  shared = join(tmp.path, 'shared');
  await mkdir(shared, { recursive: true });
  const uploadDir = join(tmp.path, 'uploads');
  const vars = { REDIS_URL: redis.url, QUIRE_QUEUE_PREFIX: prefix, QUIRE_DATA_DIR: join(tmp.path, 'data') };
  workers = await Promise.all([
    startWorker('ingest', { ...vars, QUIRE_FILE_ROOTS: `${uploadDir},${shared}` }),
    startWorker('query', vars),
  ]);
  gateway = await startGateway({
    ...vars,
    QUIRE_API_KEYS: `acme:${hashApiKey(KEYS.acme)},globex:${hashApiKey(KEYS.globex)}`,
    GATEWAY_UPLOAD_DIR: uploadDir,
  });
  producer = new Producer({ connection: redis.url, prefix });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  // Refused requests (the wrong key below) are logged by the browser as errors: not the page's.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
      pageErrors.push(message.text());
  });
  await mkdir(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await producer?.close();
  await gateway?.close();
  await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  if (redis) await cleanupPrefix(redis.url, prefix);
  await redis?.stop();
  await tmp?.cleanup();
});

async function call(method: string, path: string, key: keyof typeof KEYS | null = 'acme') {
  const response = await fetch(`${gateway.url}${path}`, {
    method,
    headers: key === null ? {} : { authorization: `Bearer ${KEYS[key]}` },
  });
  const type = response.headers.get('content-type') ?? '';
  const body = type.startsWith('application/json') ? await response.json() : await response.text();
  return { status: response.status, body: body as Record<string, unknown>, headers: response.headers };
}

/** Ingests a file of the shared directory as a path source; resolves once its job has ended. */
async function ingestPath(documentId: string, name: string): Promise<string> {
  const { jobId } = await producer.enqueueIngest({
    tenant: 'acme',
    documentId,
    source: { kind: 'path', path: join(shared, name) },
  });
  await producer.waitForJob(QUEUES.ingest, jobId, { timeoutMs: 60_000 }).catch(() => undefined);
  return jobId;
}

/** Runs axe-core on the page as it is now; fails on any violation, listing them. */
async function checkAccessibility(view: string): Promise<void> {
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    const result = await (
      globalThis as unknown as {
        axe: { run: () => Promise<{ violations: { id: string; help: string; nodes: unknown[] }[] }> };
      }
    ).axe.run();
    return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`);
  });
  expect(violations, `accessibility of the ${view} view`).toEqual([]);
}

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
}

/** The browser globals the page functions below use (this file is typed for Node). */
interface BrowserGlobals {
  DataTransfer: new () => { items: { add(file: File): void } };
  localStorage: { length: number };
  sessionStorage: { length: number };
  document: { cookie: string };
}

const view = (name: string) => page.locator(`nav button[data-view="${name}"]`);
const documentRow = (id: string) => page.locator(`tr[data-document="${id}"]`);

describe('failed documents API', { timeout: 120_000 }, () => {
  it('lists the tenant’s failed documents with reasons, to that tenant only, and retries one', async () => {
    await writeFile(join(shared, 'api-broken.pdf'), await makeTruncatedPdf([['Half a page']]));
    const jobId = await ingestPath('api-broken', 'api-broken.pdf');

    const listed = await call('GET', '/v1/failed-documents');
    expect(listed.status).toBe(200);
    const documents = listed.body.documents as Record<string, unknown>[];
    const failed = documents.find((d) => d.documentId === 'api-broken');
    expect(failed).toMatchObject({ jobId, sourceKind: 'path', retryable: true });
    expect(String(failed?.failedReason)).toMatch(/api-broken/);

    // Another tenant sees nothing of it and cannot retry it; no key is refused.
    const theirs = await call('GET', '/v1/failed-documents', 'globex');
    expect(theirs.body.documents).toEqual([]);
    expect((await call('POST', '/v1/failed-documents/api-broken/retry', 'globex')).status).toBe(404);
    expect((await call('GET', '/v1/failed-documents', null)).status).toBe(401);
    expect((await call('POST', '/v1/failed-documents/no-such-document/retry')).status).toBe(404);
    expect((await call('GET', '/v1/failed-documents?limit=0')).status).toBe(400);

    // Fixed at its source, retried: the same job runs again and the document leaves the list.
    await writeFile(join(shared, 'api-broken.pdf'), await makePdf([['Fixed', 'The pier opens at dawn.']]));
    const retried = await call('POST', '/v1/failed-documents/api-broken/retry');
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({
      jobId,
      documentId: 'api-broken',
      statusUrl: `/v1/jobs/ingest/${jobId}`,
    });
    await waitFor(async () => (await call('GET', `/v1/jobs/ingest/${jobId}`)).body.state === 'completed', {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    const after = await call('GET', '/v1/failed-documents');
    expect((after.body.documents as { documentId: string }[]).map((d) => d.documentId)).not.toContain(
      'api-broken',
    );

    const openapi = await call('GET', '/docs/json', null);
    const paths = (openapi.body as { paths: Record<string, unknown> }).paths;
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining(['/v1/failed-documents', '/v1/failed-documents/{documentId}/retry']),
    );
  });
});

describe('console page', () => {
  it('is served with a strict Content-Security-Policy, and only its own files', async () => {
    const index = await call('GET', '/console/', null);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toMatch(/script-src 'self'/);
    expect(CONSOLE_CSP).not.toMatch(/unsafe/);
    expect(String(index.body)).not.toMatch(/<script>|https?:\/\//);
    const script = await call('GET', '/console/app.js', null);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(String(script.body)).not.toMatch(/innerHTML|localStorage|sessionStorage|document\.cookie/);
    expect((await call('GET', '/console/..%2Fpackage.json', null)).status).toBe(404);
    expect((await call('GET', '/console/toString', null)).status).toBe(404);
    const bare = await fetch(`${gateway.url}/console`, { redirect: 'manual' });
    expect(bare.status).toBe(308);
  });
});

describe('console in the browser', { timeout: 240_000 }, () => {
  it('signs in, uploads by drag and drop, watches ingestion, asks, opens the cited passage, retries a failed document, runs a batch, reads an eval report', async () => {
    await writeFile(join(shared, 'tide-table.pdf'), await makeTruncatedPdf([['Tide table']]));
    await ingestPath('tide-table', 'tide-table.pdf');

    await page.goto(`${gateway.url}/console/`);
    await checkAccessibility('sign-in');
    await page.locator('#api-key').fill('wrong-key');
    await page.getByRole('button', { name: 'Open the console' }).click();
    await page.getByText('The gateway refused this key.').waitFor();
    await page.locator('#api-key').fill(KEYS.acme);
    await page.getByRole('button', { name: 'Open the console' }).click();
    await documentRow('tide-table').waitFor();
    expect(await documentRow('tide-table').textContent()).toMatch(/failed.*tide-table/s);

    // Upload: two files dropped at once.
    await view('upload').click();
    const dataTransfer = await page.evaluateHandle(() => {
      const transfer = new (globalThis as unknown as BrowserGlobals).DataTransfer();
      transfer.items.add(
        new File(
          [
            '# Lighthouse handbook\n\n## Lamp\n\nThe lighthouse lamp burns paraffin and is trimmed at dusk.\n\n## Bell\n\nThe fog bell rings twice a minute in fog.\n',
          ],
          'handbook.md',
          { type: 'text/markdown' },
        ),
      );
      transfer.items.add(
        new File(['Ferry notes\n\nThe ferry to the island leaves at seven in the morning.\n'], 'ferry.txt', {
          type: 'text/plain',
        }),
      );
      return transfer;
    });
    await page.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer });
    const uploads = page.locator('.uploads li');
    await waitFor(async () => (await uploads.count()) === 2, { timeoutMs: 10_000 });
    for (const name of ['handbook.md', 'ferry.txt']) {
      await uploads
        .filter({ hasText: name })
        .filter({ hasText: /ingested · \d+ chunk/ })
        .waitFor({ timeout: 60_000 });
    }
    await checkAccessibility('upload');
    await screenshot('upload');

    // Documents: the uploads ingested, the failed one with its reason; fixed and retried from here.
    await view('documents').click();
    await documentRow('handbook.md').filter({ hasText: 'ingested' }).waitFor();
    expect(await documentRow('tide-table').textContent()).toMatch(/tide-table\.pdf/);
    await writeFile(
      join(shared, 'tide-table.pdf'),
      await makePdf([['Tide table', 'High tide is at noon on Sundays.']]),
    );
    await checkAccessibility('documents');
    await screenshot('documents');
    await page.getByRole('button', { name: 'Retry tide-table' }).click();
    await documentRow('tide-table').filter({ hasText: 'ingested' }).waitFor({ timeout: 60_000 });
    // Page counts come from the document list, also for documents no job of this page ingested.
    const pagesCell = (id: string) => documentRow(id).locator('td').nth(2);
    expect(await pagesCell('api-broken').textContent()).toBe('1');
    expect(await pagesCell('handbook.md').textContent()).toBe('—');

    // Ask: the answer cites a passage; the citation opens it.
    await view('ask').click();
    await page.getByLabel('Question').fill('What does the lighthouse lamp burn?');
    await page.getByRole('region', { name: 'Ask' }).getByRole('button', { name: 'Ask', exact: true }).click();
    await page.getByTestId('answer').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('answer').textContent()).toMatch(/paraffin/);
    const citation = page
      .getByTestId('answer')
      .getByRole('button', { name: /^Citation \d+/ })
      .first();
    const label = (await citation.getAttribute('aria-label')) ?? '';
    const rank = /Citation (\d+)/.exec(label)?.[1];
    await citation.click();
    const passage = page.locator(`#passage-${rank}`);
    expect(await passage.getAttribute('open')).not.toBeNull();
    expect(await passage.locator('.passage-text').isVisible()).toBe(true);
    expect(await passage.textContent()).toMatch(/retrieval \d\.\d+ · rerank/);
    expect((await passage.locator('.passage-text').textContent())?.trim()).not.toBe('');
    await page
      .locator('details.passage')
      .filter({ hasText: 'handbook.md' })
      .filter({ hasText: 'paraffin' })
      .first()
      .waitFor({ state: 'attached' });
    await checkAccessibility('ask');
    await screenshot('ask');

    // Batches: two questions, followed to the end, exported.
    await view('batches').click();
    await page
      .getByLabel('Questions, one per line')
      .fill('When does the ferry leave?\nHow often does the fog bell ring?');
    await page.getByLabel('Name (optional)').fill('harbour checks');
    await page.getByRole('button', { name: 'Run batch' }).click();
    await page
      .locator('.batch')
      .filter({ hasText: 'completed · 2 answered, 0 failed' })
      .waitFor({ timeout: 90_000 });
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^batch-.+\.csv$/);
    await checkAccessibility('batches');
    await screenshot('batches');

    // Evals: one run through the API, listed with its progress, its report's stages side by side.
    const { evalId } = await producer.enqueueEval({
      tenant: 'acme',
      name: 'harbour eval',
      corpus: [
        { id: 'eval-pier', text: 'The harbour pier is three hundred metres long and built of granite.' },
        { id: 'eval-crane', text: 'The dock crane lifts forty tonnes and runs on rails.' },
      ],
      queries: [
        { id: 'pier', text: 'How long is the harbour pier?' },
        { id: 'crane', text: 'How much does the dock crane lift?' },
      ],
      qrels: [
        { queryId: 'pier', documentId: 'eval-pier', grade: 1 },
        { queryId: 'crane', documentId: 'eval-crane', grade: 1 },
      ],
      answers: [{ queryId: 'pier', answers: ['three hundred metres'] }],
      cleanup: true,
    });
    await view('evals').click();
    const evalRow = page.locator(`tr[data-eval="${evalId}"]`);
    await evalRow.filter({ hasText: 'completed' }).waitFor({ timeout: 90_000 });
    expect(await evalRow.textContent()).toMatch(/harbour eval.*2 of 2 questions/s);
    await page.getByRole('button', { name: `Open report of harbour eval (${evalId})` }).click();
    const retrieval = page.locator('table[data-table="retrieval"]');
    await retrieval.waitFor();
    expect(await retrieval.locator('thead th').allTextContents()).toEqual([
      'Metric',
      'Lexical',
      'Dense',
      'Fused',
      'Fused + rerank',
    ]);
    const recallAt1 = retrieval.locator('tbody tr').first();
    expect(await recallAt1.locator('th').textContent()).toBe('Recall@1');
    expect(await recallAt1.locator('td').allTextContents()).toHaveLength(4);
    for (const cell of await recallAt1.locator('td').allTextContents()) expect(cell).toMatch(/^\d+\.\d %$/);
    expect(await page.locator('table[data-table="answers"]').textContent()).toMatch(/Answerable/);
    expect(await page.locator('table[data-table="latency"] tbody tr').count()).toBe(6);
    const evalDownload = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export Markdown' }).click();
    expect((await evalDownload).suggestedFilename()).toBe(`eval-${evalId}.md`);
    // Another tenant does not see it.
    const theirs = await call('GET', '/v1/evals', 'globex');
    expect((theirs.body.evals as { evalId: string }[]).map((e) => e.evalId)).not.toContain(evalId);
    await checkAccessibility('evals');
    await screenshot('evals');

    // The key went nowhere but the Authorization header.
    expect(page.url()).not.toContain(KEYS.acme);
    const stored = await page.evaluate(() => {
      const { localStorage, sessionStorage, document } = globalThis as unknown as BrowserGlobals;
      return [localStorage.length, sessionStorage.length, document.cookie];
    });
    expect(stored).toEqual([0, 0, '']);
    expect(pageErrors).toEqual([]);
  });
});
