// Browser end-to-end test of an Athena tenant's cost pages (run by
// athena_test.go, which starts the server in its own process with moto
// behind it, queues the rows of the page's Athena queries in moto and
// stubs the bytes they scanned, 25 MB each). The Cost explorer says where
// its billing periods and its answer came from and what each cost, and
// shows the engine with this month's Athena spend, and its tag key picker
// offers the keys Athena lists; the Commitments page
// shows the Crossbill-Cost-Source note (its analyses run in Athena; the
// page's Athena queries find no rows queued, only the note is checked).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');
const bin = process.env.CROSSBILL_BIN || join(here, '..', 'bin', 'crossbill');
const chromiumPath = process.env.CROSSBILL_CHROMIUM || '/usr/bin/chromium';
const dataDir = process.env.CROSSBILL_E2E_DATA_ATHENA;
const base = process.env.CROSSBILL_E2E_URL;

let browser;
let page;

before(async () => {
  assert.ok(dataDir && base, 'run through `go test ./e2e -run TestBrowserAthena`');
  mkdirSync(shots, { recursive: true });
  const tok = JSON.parse(execFileSync(bin, ['token', 'create', '--tenant', 'acme', '--role', 'viewer', '--user', 'vic@example.com', '--data', dataDir, '--json'])).token;
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (e) => { throw e; });
  await page.goto(base);
  await page.getByLabel('API token').fill(tok);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Connections' }).waitFor();
});

after(async () => {
  if (browser) await browser.close();
});

const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

test('the Cost explorer says its answers came from Amazon Athena and what they cost', async () => {
  await page.goto(`${base}/#/costs`);
  await page.getByRole('heading', { name: 'Cost explorer' }).waitFor();
  // The billing periods: Athena's table's, listed by one query.
  await page.getByText("Billing periods in Athena's table (last 36 months): 2026-01, 2026-02").waitFor();
  const notes = page.getByTestId('athena-cost');
  await notes.filter({ hasText: /^Listed by Amazon Athena/ }).waitFor();
  // The default range is the periods': the query ran in Athena.
  const results = page.getByRole('region', { name: 'Results' });
  const answered = results.getByTestId('athena-cost');
  await answered.waitFor();
  assert.equal(await answered.textContent(), "Answered by Amazon Athena · 1 query · 25.0 MB scanned · $0.00012 (billed to the customer's AWS account)");
  assert.equal(await notes.filter({ hasText: /^Listed/ }).textContent(), "Listed by Amazon Athena · 1 query · 25.0 MB scanned · $0.00012 (billed to the customer's AWS account)");
  assert.equal(await page.getByTestId('cost-total').textContent(), '$249.75');
  assert.match(await results.getByTestId('cost-source').textContent(), /Amazon Athena \(crossbill_cur\.cur2\)/);
  // The engine and this month's spend: both queries, in a labelled region.
  const engine = page.getByRole('region', { name: 'Cost engine' });
  await engine.getByTestId('athena-spend').waitFor();
  assert.match(await engine.textContent(), /Cost engine: Amazon Athena over the CUR in place \(crossbill_cur\.cur2, workgroup crossbill, through connection /);
  assert.match(await engine.getByTestId('athena-spend').textContent(), /: 2 queries · 50\.0 MB scanned · 50\.0 MB billed · \$0\.00024$/);
  await shot('athena-01-explorer');
});

test('grouping by tag offers the tag keys Athena lists', async () => {
  await page.getByLabel('Group by').selectOption('tag');
  const count = page.getByTestId('key-count');
  await count.filter({ hasText: /tag keys/ }).waitFor();
  assert.match(await count.textContent(), /^2 tag keys in \d{4}-\d{2}, \d{4}-\d{2}, \d{4}-\d{2}$/, 'the last 3 billing periods');
  const keys = await page.locator('#group-keys option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(keys, ['app', 'team']);
  assert.equal(await page.getByLabel('Tag or category key').getAttribute('list'), 'group-keys');
  // Listed by two queries: the periods and the keys.
  assert.match(await page.getByLabel('Tag or category key').locator('xpath=..').getByTestId('athena-cost').textContent(), /^Listed by Amazon Athena · 2 queries · 50\.0 MB scanned/);
  await shot('athena-02-tag-keys');
});

test('the Commitments page says its analyses run in Athena', async () => {
  await page.goto(`${base}/#/commitments`);
  const note = page.getByTestId('cost-source-note');
  await note.waitFor();
  assert.match(await note.textContent(), /^Cost source: athena; the tenant's cost engine is athena: these commitments analyses run in Amazon Athena/);
  assert.equal(await note.getAttribute('role'), 'note');
  await shot('athena-03-commitments');
});
