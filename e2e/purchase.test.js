// Browser end-to-end test of the Purchase plans section of the Commitments
// page (run by purchase_test.go, which starts the server in its own process
// with moto behind it and the EC2 purchase calls moto cannot serve stubbed,
// and seeds tenant acme with a verified connection carrying
// commitments-purchase). ana (analyst) writes a plan for 2 t3.small
// reservations and sees its offering, costs and downside, with no way to
// approve it (the API answers 403); ann (approver) approves it in the
// Approvals inbox; the plan shows approved; the admin executes it and it
// shows done with its tranche and reservation.
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
const dataDir = process.env.CROSSBILL_E2E_DATA_PURCHASE;
const base = process.env.CROSSBILL_E2E_URL;
const conn = process.env.CROSSBILL_E2E_CONNECTION;

let browser;
const tok = {};
let plan = '';

function token(role, user) {
  const out = execFileSync(bin, ['token', 'create', '--tenant', 'acme', '--role', role, '--user', user, '--data', dataDir, '--json']);
  return JSON.parse(out).token;
}

async function apiAs(who, method, path, body) {
  return fetch(`${base}/api/v1/tenants/acme${path}`, {
    method, headers: { Authorization: `Bearer ${tok[who]}`, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body),
  });
}

async function signIn(who) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => { throw e; });
  await page.goto(base);
  await page.getByLabel('API token').fill(tok[who]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Connections' }).waitFor();
  return page;
}

const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

// planRow opens the Commitments page and returns the plan's row in the
// Purchase plans table.
async function planRow(page) {
  await page.goto('about:blank');
  await page.goto(`${base}/#/commitments`);
  const sec = page.getByRole('region', { name: 'Purchase plans' });
  await sec.waitFor();
  const row = sec.getByRole('row').filter({ hasText: plan });
  await row.waitFor();
  return row;
}

let ana, ann, admin;

before(async () => {
  assert.ok(dataDir && base && conn, 'run through `go test ./e2e -run TestBrowserPurchase`');
  mkdirSync(shots, { recursive: true });
  tok.admin = token('admin', 'admin@example.com');
  tok.ana = token('analyst', 'ana@example.com');
  tok.ann = token('approver', 'ann@example.com');
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  ana = await signIn('ana');
  ann = await signIn('ann');
  admin = await signIn('admin');
});

after(async () => {
  if (browser) await browser.close();
});

test('ana writes a plan and sees its offering, costs and downside; she cannot approve it', async () => {
  await ana.goto(`${base}/#/commitments`);
  const form = ana.getByRole('form', { name: 'New purchase plan' });
  await form.waitFor();
  await form.getByLabel('Connection', { exact: true }).fill(conn);
  await form.getByLabel('Type', { exact: true }).selectOption('EC2');
  await form.getByLabel('Term', { exact: true }).selectOption('1');
  await form.getByLabel('Payment', { exact: true }).selectOption('Partial Upfront');
  await form.getByLabel('$/h or count', { exact: true }).fill('2');
  await form.getByLabel('Region', { exact: true }).fill('us-east-1');
  await form.getByLabel('Family or instance type', { exact: true }).fill('t3.nosuch');
  await form.getByRole('button', { name: 'Plan' }).click();
  // An instance type AWS does not offer: refused with the reason, nothing stored.
  await form.getByRole('alert').filter({ hasText: /offers no t3\.nosuch/ }).waitFor();
  await form.getByLabel('Family or instance type', { exact: true }).fill('t3.small');
  await form.getByRole('button', { name: 'Plan' }).click();
  const sec = ana.getByRole('region', { name: 'Purchase plans' });
  const cell = sec.getByRole('cell', { name: /^pp_/ });
  await cell.waitFor();
  plan = (await cell.textContent()).trim();
  const row = await planRow(ana);
  const text = await row.textContent();
  assert.match(text, /pending-approval/);
  assert.match(text, /EC2 2 × t3\.small, 1y Partial Upfront/);
  assert.match(text, /t3\.small Linux\/UNIX regional, Partial Upfront/, 'the offering it will buy');
  assert.equal(await sec.getByRole('row').count(), 2, 'one plan only: the refused one left none');
  const cells = await row.getByRole('cell').allTextContents();
  const headers = await sec.getByRole('columnheader').allTextContents();
  const at = (name) => cells[headers.indexOf(name)];
  assert.match(at('If usage drops 20% / 30%'), /^unknown$/, 'the downside, unknown without cost data to estimate from');
  assert.match(await row.locator('span', { hasText: /^unknown$/ }).last().getAttribute('title') || '', /usage/, 'and why, on hover');
  assert.match(at('Upfront'), /\$/);
  assert.match(at('Monthly'), /\$/);
  for (const b of ['Approve', 'Execute']) assert.equal(await row.getByRole('button', { name: b }).count(), 0, `an analyst has no ${b} button`);
  await shot(ana, 'purchase-01-planned');

  const inbox = await (await apiAs('ana', 'GET', '/approvals?kind=purchase')).json();
  assert.equal(inbox.length, 1);
  await ana.goto(`${base}/#/approvals/${inbox[0].id}`);
  await ana.getByRole('heading', { name: 'What is approved' }).waitFor();
  assert.equal(await ana.getByRole('button', { name: 'Approve' }).count(), 0, 'no Approve button on her own plan');
  const own = await apiAs('ana', 'POST', `/approvals/${inbox[0].id}/approve`, { reason: 'mine' });
  assert.equal(own.status, 403);
});

test('ann approves it in the Approvals inbox; the plan shows approved', async () => {
  assert.ok(plan, 'needs the first test\'s plan');
  await ann.goto(`${base}/#/approvals`);
  const row = ann.getByRole('row').filter({ hasText: 'purchase' }).filter({ hasText: 'ana@example.com' });
  await row.waitFor();
  await shot(ann, 'purchase-02-inbox');
  await row.getByRole('link').first().click();
  await ann.getByRole('heading', { name: 'What is approved' }).waitFor();
  assert.match(await ann.locator('pre.plan').textContent(), /t3\.small/);
  await ann.getByLabel(/Reason/).fill('within budget');
  await ann.getByRole('button', { name: 'Approve' }).click();
  await ann.getByRole('cell', { name: 'ann@example.com' }).waitFor();
  const planned = await planRow(ann);
  assert.match(await planned.textContent(), /approved/);
  assert.equal(await planned.getByRole('button', { name: 'Execute' }).count(), 0, 'an approver does not execute');
  await shot(ann, 'purchase-03-approved');
});

test('the admin executes it; the plan shows done with its tranche and reservation', async () => {
  assert.ok(plan, 'needs the first test\'s plan');
  let row = await planRow(admin);
  assert.match(await row.textContent(), /approved/);
  // Wait for the execute call's answer before leaving the page: leaving
  // aborts the request, and with it the purchase the server was making.
  const executed = admin.waitForResponse((r) => r.url().endsWith('/execute') && r.request().method() === 'POST', { timeout: 120000 });
  await row.getByRole('button', { name: 'Execute' }).click();
  assert.equal((await executed).status(), 200, 'execute answered');
  const deadline = Date.now() + 30000;
  for (;;) {
    row = await planRow(admin);
    const text = await row.textContent();
    if (/\bdone\b/.test(text.split('Author')[0]) && /ri-e2e0001/.test(text)) break;
    if (Date.now() > deadline) throw new Error(`plan ${plan} not done in 30 s: ${text}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const cells = await row.getByRole('cell').allTextContents();
  const headers = await admin.getByRole('region', { name: 'Purchase plans' }).getByRole('columnheader').allTextContents();
  assert.match(cells[headers.indexOf('State')], /^done$/);
  assert.match(cells[headers.indexOf('Tranches')], /done ri-e2e0001/);
  assert.equal(await row.getByRole('button', { name: 'Execute' }).count(), 0, 'done: nothing to execute');
  await shot(admin, 'purchase-04-done');
});
