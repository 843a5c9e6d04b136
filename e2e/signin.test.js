// Browser end-to-end test of sign-in: `crossbill serve` with single sign-on
// through an in-process OpenID provider (started by signin_test.go, with a
// small sign-in page of its own). A person's groups map to roles in tenant
// acme only; an approver acknowledges an access review, a viewer cannot
// (no button, and the API answers 403), both sign out. An analyst saves a
// view of the costs and exports it as CSV; a viewer opens the view but
// has no export (no button, and the API answers 403).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');
const bin = process.env.CROSSBILL_BIN || join(here, '..', 'bin', 'crossbill');
const chromiumPath = process.env.CROSSBILL_CHROMIUM || '/usr/bin/chromium';
const issuer = process.env.CROSSBILL_E2E_OIDC_ISSUER;

let server, context, page, base, op, dataDir, profileDir;
const reviews = {};

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function startServe(port) {
  return new Promise((resolve, reject) => {
    server = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--data', dataDir, '--json', '--log-format', 'text',
      '--oidc-issuer', issuer, '--oidc-name', 'corp', '--oidc-redirect-url', `http://127.0.0.1:${port}/api/v1/auth/callback`,
      '--oidc-role', 'groups=acme-approvers:acme:approver', '--oidc-role', 'groups=acme-viewers:acme:viewer',
      '--oidc-role', 'groups=acme-analysts:acme:analyst'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let out = '', err = '';
    const timer = setTimeout(() => reject(new Error(`serve not ready in 60 s; stderr:\n${err}`)), 60000);
    server.stdout.on('data', (d) => {
      out += d;
      try { const v = JSON.parse(out); clearTimeout(timer); resolve(v); } catch { /* incomplete */ }
    });
    server.stderr.on('data', (d) => { err += d; });
    server.on('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited with ${code}; stderr:\n${err}`)); });
  });
}

async function shot(name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function review(name) {
  const resp = await fetch(`${base}/api/v1/tenants/acme/reviews?name=${name}`, {
    method: 'POST', headers: { Authorization: `Bearer ${op}`, 'Content-Type': 'text/plain' },
    body: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}',
  });
  assert.equal(resp.status, 201);
  return (await resp.json()).id;
}

before(async () => {
  assert.ok(issuer, 'CROSSBILL_E2E_OIDC_ISSUER is not set: run through `go test ./e2e -run TestBrowserSignIn`');
  mkdirSync(shots, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'crossbill-e2e-signin-'));
  profileDir = mkdtempSync(join(tmpdir(), 'crossbill-e2e-signin-profile-'));
  for (const t of ['acme', 'beta']) execFileSync(bin, ['tenant', 'create', t, '--data', dataDir]);
  // A month of a synthetic organization's costs for acme (the analyst's
  // views and exports), loaded before serve holds the cost store.
  const curDir = join(dataDir, 'cur-export');
  execFileSync(bin, ['cur', 'generate', '--out', curDir, '--seed', '7', '--accounts', '2', '--months', '1', '--start', '2026-01']);
  execFileSync(bin, ['cur', 'ingest', '--source', curDir, '--tenant', 'acme', '--data', dataDir]);
  const port = await freePort();
  const banner = await startServe(port);
  base = banner.url;
  op = banner.token;
  reviews.ann = await review('vendor-a.json');
  reviews.vic = await review('vendor-b.json');
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath, headless: true, acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => { throw e; });
});

after(async () => {
  if (context) await context.close();
  if (server) server.kill('SIGTERM');
  for (const d of [dataDir, profileDir]) if (d) rmSync(d, { recursive: true, force: true });
});

async function signInAs(who) {
  await page.goto(base);
  await page.getByRole('link', { name: 'Sign in with corp' }).click();
  await page.getByRole('heading', { name: 'Test identity provider' }).waitFor();
  await page.getByRole('button', { name: `Sign in as ${who}@example.com` }).click();
  await page.getByRole('heading', { name: 'Connections' }).waitFor();
}

test('an approver signs in through the identity provider, sees only acme, approves', async () => {
  await page.goto(base);
  await page.getByRole('link', { name: 'Sign in with corp' }).waitFor();
  await shot('signin-01-page');
  await signInAs('ann');
  assert.match(await page.locator('#who-scope').textContent(), /ann@example\.com · approver/);
  const tenants = await page.locator('#tenant-select option').allTextContents();
  assert.deepEqual(tenants, ['acme'], 'only the tenant the claims map to');
  assert.ok(await page.locator('#break-glass').isHidden(), 'an IdP session is not break-glass');
  await page.goto(`${base}/#/review/${reviews.ann}`);
  await page.getByLabel('Note').fill('vendor needs IAM for provisioning');
  await shot('signin-02-approver-review');
  await page.getByRole('button', { name: 'Acknowledge findings' }).click();
  await page.getByTestId('acknowledged').filter({ hasText: 'ann@example.com' }).waitFor();
  await shot('signin-03-approved');
  await page.goto(`${base}/#/me`);
  await page.getByRole('cell', { name: 'review.acknowledge' }).first().waitFor();
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByText('You are signed out.').waitFor();
  const me = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
  assert.equal(me, 401, 'the session ended on the server');
});

test('a viewer cannot approve: no button, and the API answers 403', async () => {
  await signInAs('vic');
  assert.match(await page.locator('#who-scope').textContent(), /vic@example\.com · viewer/);
  await page.goto(`${base}/#/review/${reviews.vic}`);
  await page.getByRole('heading', { name: 'Approval' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Acknowledge findings' }).count(), 0);
  await shot('signin-04-viewer-review');
  const status = await page.evaluate(async (id) => {
    const me = await (await fetch('/api/v1/me')).json();
    const r = await fetch(`/api/v1/tenants/acme/reviews/${id}/acknowledge`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token }, body: '{"note":"x"}',
    });
    return r.status;
  }, reviews.vic);
  assert.equal(status, 403);
  const beta = await page.evaluate(async () => (await fetch('/api/v1/tenants/beta')).status);
  assert.equal(beta, 404, 'a tenant the claims do not map to does not exist for the viewer');
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByText('You are signed out.').waitFor();
});

test('an analyst saves a view and exports it; a viewer opens it but cannot export', async () => {
  await signInAs('ana');
  assert.match(await page.locator('#who-scope').textContent(), /ana@example\.com · analyst/);
  await page.goto(`${base}/#/costs/${encodeURIComponent('group_by=service&granularity=monthly&from=2026-01-01&to=2026-02-01&top=8')}`);
  await page.getByRole('heading', { name: /by service/ }).waitFor();
  await page.getByLabel('View name').fill('Monthly by service');
  await page.getByRole('button', { name: 'Save view' }).click();
  await page.getByTestId('view-status').filter({ hasText: 'Saved “Monthly by service”' }).waitFor();
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
  const csv = readFileSync(await dl.path(), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'period,group,amortized');
  assert.ok(csv.length > 2, 'the export holds the month\'s services');
  await shot('signin-05-analyst-view');
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByText('You are signed out.').waitFor();

  await signInAs('vic');
  await page.goto(`${base}/#/costs`);
  await page.getByLabel('Saved view', { exact: true }).selectOption({ label: 'Monthly by service' });
  await page.getByRole('heading', { name: /amortized cost by service, monthly/ }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Download CSV' }).count(), 0, 'no export for a viewer');
  assert.equal(await page.getByRole('button', { name: 'Save view' }).count(), 0, 'no saving for a viewer');
  await shot('signin-06-viewer-view');
  const statuses = await page.evaluate(async () => {
    const views = await (await fetch('/api/v1/tenants/acme/costs/views')).json();
    const a = await fetch(`/api/v1/tenants/acme/costs/views/${views[0].id}/export`);
    const b = await fetch('/api/v1/tenants/acme/costs/export?format=csv&group_by=service');
    return [views.length, a.status, b.status];
  });
  assert.deepEqual(statuses, [1, 403, 403]);
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByText('You are signed out.').waitFor();
});

test('the audit log names the people and its chain verifies', async () => {
  const out = execFileSync(bin, ['audit', 'verify', '--json', '--data', dataDir]).toString();
  assert.equal(JSON.parse(out).ok, true);
  const ack = await (await fetch(`${base}/api/v1/tenants/acme/reviews/${reviews.ann}`, { headers: { Authorization: `Bearer ${op}` } })).json();
  assert.equal(ack.acknowledged.person, 'ann@example.com');
});
