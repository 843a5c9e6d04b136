// Browser end-to-end test of just-in-time access (run by jit_test.go,
// which starts moto with an IAM group under /crossbill-jit/ and seeds
// tenant acme with a verified connection carrying access-jit). An admin
// sets a policy through the API; ana (analyst) requests membership of the
// group on the Just-in-time access page and has no Approve button (the
// API answers 403); ann (approver) finds the request on the Approvals
// page, reads its plan and approves; the server's lease engine grants it
// and the JIT page shows it active with time left; ann revokes it and the
// lease's audit trail shows request, approval, grant and revocation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');
const bin = process.env.CROSSBILL_BIN || join(here, '..', 'bin', 'crossbill');
const chromiumPath = process.env.CROSSBILL_CHROMIUM || '/usr/bin/chromium';
const dataDir = process.env.CROSSBILL_E2E_DATA_JIT;
const account = process.env.CROSSBILL_E2E_ACCOUNT;

let server, browser, base, profileDir;
const tok = {};
let lease = '';

function startServe() {
  return new Promise((resolve, reject) => {
    server = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data', dataDir, '--json', '--log-format', 'text',
      '--endpoint-url', process.env.CROSSBILL_E2E_ENDPOINT], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
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

function token(role, user) {
  const out = execFileSync(bin, ['token', 'create', '--tenant', 'acme', '--role', role, '--user', user, '--data', dataDir, '--json']);
  return JSON.parse(out).token;
}

async function apiAs(who, method, path, body) {
  return fetch(`${base}/api/v1/tenants/acme${path}`, {
    method, headers: { Authorization: `Bearer ${tok[who]}`, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body),
  });
}

// signIn opens a browser context of its own for one person's token.
async function signIn(who) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => { throw e; });
  await page.goto(base);
  await page.getByLabel('API token').fill(tok[who]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Connections' }).waitFor();
  return page;
}

const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

// leaseRow reloads the JIT page until the lease's row shows state (the
// server's lease engine moves it every 5 s; the page refreshes every 15 s).
async function leaseRow(page, state) {
  const deadline = Date.now() + 60000;
  for (;;) {
    await page.goto(`${base}/#/jit`);
    await page.getByRole('heading', { name: 'Just-in-time access' }).waitFor();
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: lease, exact: true }) });
    await row.waitFor();
    if ((await row.textContent()).includes(state)) return row;
    if (Date.now() > deadline) throw new Error(`lease ${lease} not ${state} in 60 s: ${await row.textContent()}`);
    await new Promise((r) => setTimeout(r, 2000));
    await page.goto('about:blank');
  }
}

let ana, ann;

before(async () => {
  assert.ok(dataDir && account, 'run through `go test ./e2e -run TestBrowserJIT`');
  mkdirSync(shots, { recursive: true });
  profileDir = mkdtempSync(join(tmpdir(), 'crossbill-e2e-jit-profile-'));
  tok.admin = token('admin', 'admin@example.com');
  tok.ana = token('analyst', 'ana@example.com');
  tok.ann = token('approver', 'ann@example.com');
  base = (await startServe()).url;
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  ana = await signIn('ana');
  ann = await signIn('ann');
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

test('an admin sets the policy; ana requests the group on the JIT page and cannot approve it', async () => {
  const r = await apiAs('admin', 'PUT', '/access/policies/oncall', {
    name: 'oncall', people: ['ana@example.com'], targets: [{ group: 'db-oncall', account }], max_duration: '4h', approvers: ['ann@example.com'],
  });
  assert.equal(r.status, 200, await r.text());

  await ana.goto(`${base}/#/jit`);
  const form = ana.getByRole('form', { name: 'Request access' });
  await form.waitFor();
  await form.getByLabel('Kind').selectOption('iam-group');
  await form.getByLabel('Permission set or group').fill('db-oncall');
  await form.getByLabel('Account').fill(account);
  await form.getByLabel('Duration').fill('5h');
  await form.getByLabel('Reason').fill('incident 42: replica lag');
  await form.getByRole('button', { name: 'Request' }).click();
  // Over the policy's maximum: refused, with the reason, nothing stored.
  await form.getByRole('alert').filter({ hasText: /4h|maximum/ }).waitFor();
  await shot(ana, 'jit-01-over-maximum');
  await form.getByLabel('Duration').fill('1h');
  await form.getByRole('button', { name: 'Request' }).click();
  const link = ana.getByRole('row').filter({ hasText: 'ana@example.com' }).getByRole('link');
  await link.waitFor();
  lease = (await link.textContent()).trim();
  const row = ana.getByRole('row').filter({ has: ana.getByRole('link', { name: lease, exact: true }) });
  assert.match(await row.textContent(), /requested/);
  assert.equal(await row.getByRole('button', { name: 'Approve' }).count(), 0, 'the requester has no Approve button');
  assert.equal(await ana.getByRole('row').count(), 2, 'one lease only: the refused request left none');
  await shot(ana, 'jit-02-requested');

  const inbox = await (await apiAs('ana', 'GET', '/approvals?kind=access-grant')).json();
  assert.equal(inbox.length, 1);
  await ana.goto(`${base}/#/approvals/${inbox[0].id}`);
  await ana.getByRole('heading', { name: 'What is approved' }).waitFor();
  assert.equal(await ana.getByRole('button', { name: 'Approve' }).count(), 0, 'no Approve button on the Approvals page either');
  const own = await apiAs('ana', 'POST', `/approvals/${inbox[0].id}/approve`, { reason: 'mine' });
  assert.equal(own.status, 403);
  const own2 = await apiAs('ana', 'POST', `/access/leases/${lease}/approve`, { reason: 'mine' });
  assert.equal(own2.status, 403);
});

test('ann finds the request on the Approvals page, reads the plan and approves; the lease goes active', async () => {
  assert.ok(lease, 'needs the first test\'s lease');
  await ann.goto(`${base}/#/approvals`);
  const link = ann.getByRole('link', { name: /ana@example\.com: IAM group db-oncall/ });
  await link.waitFor();
  assert.match(await ann.getByRole('row').filter({ has: link }).textContent(), /access-grant.*pending.*ana@example\.com.*0\/1/);
  await shot(ann, 'jit-03-approvals-inbox');
  await link.click();
  await ann.getByRole('heading', { name: 'What is approved' }).waitFor();
  const plan = await ann.locator('pre.plan').textContent();
  assert.match(plan, /db-oncall/);
  assert.match(plan, new RegExp(account));
  await ann.getByLabel(/Reason/).fill('on call this week');
  await shot(ann, 'jit-04-approval-plan');
  await ann.getByRole('button', { name: 'Approve' }).click();
  await ann.getByRole('cell', { name: 'ann@example.com' }).waitFor();
  assert.match(await ann.locator('main').textContent(), /approved/);
  assert.equal(await ann.getByRole('button', { name: 'Approve' }).count(), 0, 'decided: no second decision');

  const row = await leaseRow(ann, 'active');
  assert.match(await row.textContent(), /group db-oncall in \d{12}/);
  // Read within a second of the grant, an hour lease has 60 min left,
  // which the page writes as 1 h 0 min.
  assert.match(await row.textContent(), /59 min \d+ s|1 h 0 min/, 'time left on an hour lease');
  await shot(ann, 'jit-05-active');
});

test('ann revokes the lease; its audit trail has request, approval, grant and revocation', async () => {
  assert.ok(lease, 'needs the first test\'s lease');
  const row = await leaseRow(ann, 'active');
  ann.once('dialog', (d) => d.accept('incident closed'));
  await row.getByRole('button', { name: 'Revoke' }).click();
  await leaseRow(ann, 'revoked');
  await shot(ann, 'jit-06-revoked');
  await ann.goto(`${base}/#/jit/${encodeURIComponent(lease)}`);
  await ann.getByRole('heading', { name: `Lease ${lease}` }).waitFor();
  const trail = ann.locator('table', { has: ann.locator('caption', { hasText: 'Audit trail' }) });
  await trail.waitFor();
  const actions = await trail.locator('tbody tr td:nth-child(2)').allTextContents();
  for (const a of ['jit.request', 'approval.open', 'approval.approve', 'jit.approved', 'jit.granted', 'jit.revoked']) {
    assert.ok(actions.includes(a), `audit trail lacks ${a}: ${actions.join(', ')}`);
  }
  const text = await trail.textContent();
  assert.match(text, /ana@example\.com/);
  assert.match(text, /ann@example\.com/);
  await shot(ann, 'jit-07-audit-trail');
});
