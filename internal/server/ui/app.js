// crossbill web UI: sign-in (single sign-on, or an API token: the operator
// token is the break-glass way in), then one page per hash route. What a
// page offers follows the caller's role in the tenant; the API enforces it.
import { api, session } from './api.js';
import { h, clear, errorBox, field } from './dom.js';
import connections from './pages/connections.js';
import costs from './pages/costs.js';
import commitments from './pages/commitments.js';
import optimize from './pages/optimize.js';
import review from './pages/review.js';
import access from './pages/access.js';
import jit from './pages/jit.js';
import inventory from './pages/inventory.js';
import annex from './pages/annex.js';
import jobs from './pages/jobs.js';
import approvals from './pages/approvals.js';
import alerts from './pages/alerts.js';
import remediation from './pages/remediation.js';
import { me, people } from './pages/people.js';

const pages = { connections, costs, commitments, inventory, optimize, review, access, jit, remediation, approvals, alerts, annex, jobs, me, people };
const main = document.getElementById('main');
const header = document.getElementById('top');
const tenantSelect = document.getElementById('tenant-select');
const state = { me: null, tenant: '', needs: {} };
const TENANT_KEY = 'crossbill.tenant';
const ranks = ['viewer', 'analyst', 'approver', 'admin', 'operator'];
const atLeast = (role, min) => ranks.indexOf(role) >= ranks.indexOf(min) && ranks.indexOf(role) >= 0;

async function signIn(message) {
  header.hidden = true;
  state.me = null;
  session.csrf = '';
  const err = h('div');
  let providers = [];
  try { providers = (await api('/api/v1/auth/providers')).providers || []; } catch { /* token sign-in still works */ }
  const sso = providers.length ? h('section', { class: 'panel', 'aria-labelledby': 'sso-title' },
    h('h2', { id: 'sso-title' }, 'Single sign-on'),
    h('p', {}, providers.map((p) => h('a', { class: 'button', href: `/api/v1/auth/login?provider=${encodeURIComponent(p)}` }, `Sign in with ${p}`)))) : '';
  const input = h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'token-help' });
  const form = h('form', { class: 'panel', 'aria-labelledby': 'token-title' },
    h('h2', { id: 'token-title' }, providers.length ? 'Break-glass: sign in with a token' : 'Sign in with a token'),
    field('API token', input, { wide: true }),
    h('p', { id: 'token-help', class: 'muted' }, 'Paste a token printed by ', h('code', {}, 'crossbill demo'), ', ', h('code', {}, 'crossbill serve'), ' or ', h('code', {}, 'crossbill token create'),
      '. The operator token is the break-glass way in when the identity provider is down; such sessions are marked and audited.'),
    err,
    h('button', { class: providers.length ? 'secondary' : '' }, 'Sign in'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('/api/v1/auth/token', { method: 'POST', body: { token: input.value.trim() } });
      await start();
    } catch (ex) {
      clear(err).append(errorBox(ex.status === 401 ? new Error('That token is unknown or revoked.') : ex));
      input.focus();
    }
  });
  clear(main).append(h('div', { class: 'signin' },
    h('h1', {}, 'Sign in to crossbill'),
    message ? h('p', { class: 'error', role: 'alert' }, message) : '', sso, form));
  if (!providers.length) input.focus();
}

// needs maps "METHOD /path/{pattern}" to the least role the route takes,
// from the OpenAPI document the server builds from its route table: the UI
// offers an action exactly when the API would allow it.
async function loadNeeds() {
  const doc = await api('/api/v1/openapi.json');
  for (const [path, ops] of Object.entries(doc.paths || {})) {
    for (const [m, op] of Object.entries(ops)) state.needs[`${m.toUpperCase()} ${path}`] = op['x-role'];
  }
}

async function start() {
  state.me = await api('/api/v1/me');
  if (!Object.keys(state.needs).length) await loadNeeds();
  session.csrf = state.me.csrf_token || '';
  const tenants = await api('/api/v1/tenants');
  clear(tenantSelect);
  for (const t of tenants) tenantSelect.append(h('option', { value: t.name }, t.name));
  const saved = sessionStorage.getItem(TENANT_KEY);
  state.tenant = (state.me.tenant) || (tenants.find((t) => t.name === saved) || tenants[0] || {}).name || '';
  tenantSelect.value = state.tenant;
  tenantSelect.disabled = tenants.length < 2;
  const who = document.getElementById('who-scope');
  const person = state.me.person;
  who.textContent = person ? `${person.email || person.subject} · ${roleIn(state.tenant)}` : `${state.me.name || state.me.token_id} · ${roleIn(state.tenant)}`;
  document.getElementById('break-glass').hidden = !state.me.break_glass;
  document.getElementById('sign-out-all').hidden = !person;
  header.hidden = false;
  if (!location.hash || location.hash === '#/' || location.hash === '#') location.hash = '#/connections';
  else route();
}

// roleIn is the caller's role in a tenant (by name).
function roleIn(tenant) {
  const m = state.me;
  if (!m) return '';
  const all = m.roles.find((r) => !r.tenant_id);
  if (all) return all.role;
  const r = m.roles.find((x) => x.tenant === tenant);
  return r ? r.role : '';
}

tenantSelect.addEventListener('change', () => {
  state.tenant = tenantSelect.value;
  sessionStorage.setItem(TENANT_KEY, state.tenant);
  document.getElementById('who-scope').textContent = `${(state.me.person || {}).email || state.me.name || ''} · ${roleIn(state.tenant)}`;
  route();
});

async function signOut(path) {
  try { await api(path, { method: 'POST' }); } catch { /* the session may be gone already */ }
  signIn('You are signed out.');
}
document.getElementById('sign-out').addEventListener('click', () => signOut('/api/v1/auth/logout'));
document.getElementById('sign-out-all').addEventListener('click', () => signOut('/api/v1/auth/logout-everywhere'));

// A session that ended (timed out, signed out elsewhere) or a revoked
// token: back to the sign-in page. (During sign-in the form shows it.)
window.addEventListener('crossbill:unauthorized', () => {
  if (!state.me) return;
  signIn('Your session ended; sign in again.');
});

let current = null;
async function route() {
  if (!state.me) return;
  const [name, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const page = pages[name] || pages.connections;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const role = roleIn(state.tenant);
  document.getElementById('nav-people').hidden = !atLeast(role, 'admin');
  if (current && current.stop) current.stop();
  clear(main);
  if (!state.tenant && name !== 'me') {
    main.append(h('h1', {}, 'No tenant yet'), h('p', {}, 'Create one with ', h('code', {}, 'crossbill tenant create NAME'), ' or POST /api/v1/tenants.'));
    return;
  }
  const ctx = {
    tenant: state.tenant, me: state.me, args: rest.map(decodeURIComponent), role,
    base: `/api/v1/tenants/${encodeURIComponent(state.tenant)}`,
    canWrite: atLeast(role, 'admin'),
    // can: whether the caller's role allows a route (method, path pattern).
    can: (method, pattern) => { const need = state.needs[`${method} ${pattern}`]; return need === 'public' || (!!need && atLeast(role, need)); },
  };
  // Each visit renders into a container of its own: a page still awaiting
  // its first answer when the user moves on appends to its container,
  // which the next visit has already removed, never beside the new page.
  const view = h('div', { class: 'view' });
  main.append(view);
  let shown = null;
  try {
    shown = await page(view, ctx) || null;
  } catch (err) {
    view.append(errorBox(err));
  }
  if (!view.isConnected) {
    if (shown && shown.stop) shown.stop();
    return;
  }
  current = shown;
  document.title = `${(main.querySelector('h1') || {}).textContent || 'crossbill'} · crossbill`;
}

window.addEventListener('hashchange', () => { route(); main.focus({ preventScroll: true }); });

// The identity provider's refusal comes back in the query string.
const refused = new URLSearchParams(location.search).get('signin_error');
if (refused) {
  history.replaceState(null, '', '/' + location.hash);
  signIn(`Sign-in refused: ${refused}`);
} else {
  start().catch(() => signIn());
}
