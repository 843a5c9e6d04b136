// crossbill web UI: sign-in with an API token, then one page per hash route.
import { api, session } from './api.js';
import { h, clear, errorBox, field } from './dom.js';
import connections from './pages/connections.js';
import costs from './pages/costs.js';
import commitments from './pages/commitments.js';
import review from './pages/review.js';
import annex from './pages/annex.js';
import jobs from './pages/jobs.js';

const pages = { connections, costs, commitments, review, annex, jobs };
const main = document.getElementById('main');
const header = document.getElementById('top');
const tenantSelect = document.getElementById('tenant-select');
const state = { me: null, tenant: '' };
const TENANT_KEY = 'crossbill.tenant';

function signIn(message) {
  header.hidden = true;
  state.me = null;
  const input = h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'token-help' });
  const err = h('div');
  const form = h('form', { class: 'signin panel', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to crossbill'),
    field('API token', input, { wide: true }),
    h('p', { id: 'token-help', class: 'muted' }, 'Paste a token printed by ', h('code', {}, 'crossbill demo'), ', ', h('code', {}, 'crossbill serve'), ' or ', h('code', {}, 'crossbill token create'), '. It is kept for this tab only.'),
    err,
    h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    session.token = input.value.trim();
    try {
      await start();
    } catch (ex) {
      session.token = '';
      clear(err).append(errorBox(ex.status === 401 ? new Error('That token is unknown or revoked.') : ex));
      input.focus();
    }
  });
  clear(main).append(message ? h('p', { class: 'error', role: 'alert' }, message) : '', form);
  input.focus();
}

async function start() {
  state.me = await api('/api/v1/me');
  const tenants = await api('/api/v1/tenants');
  clear(tenantSelect);
  for (const t of tenants) tenantSelect.append(h('option', { value: t.name }, t.name));
  const saved = sessionStorage.getItem(TENANT_KEY);
  state.tenant = (state.me.tenant) || (tenants.find((t) => t.name === saved) || tenants[0] || {}).name || '';
  tenantSelect.value = state.tenant;
  tenantSelect.disabled = !state.me.operator;
  document.getElementById('who-scope').textContent = state.me.operator ? 'operator' : state.me.scope;
  header.hidden = false;
  if (!location.hash || location.hash === '#/' || location.hash === '#') location.hash = '#/connections';
  else route();
}

tenantSelect.addEventListener('change', () => {
  state.tenant = tenantSelect.value;
  sessionStorage.setItem(TENANT_KEY, state.tenant);
  route();
});

document.getElementById('sign-out').addEventListener('click', () => {
  session.token = '';
  signIn();
});

// A token revoked while signed in: back to the sign-in form. (During sign-in
// itself the form shows the error.)
window.addEventListener('crossbill:unauthorized', () => {
  if (!state.me) return;
  session.token = '';
  signIn('Your token was refused (revoked?); sign in again.');
});

let current = null;
async function route() {
  if (!state.me) return;
  const [name, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const page = pages[name] || pages.connections;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  if (current && current.stop) current.stop();
  clear(main);
  if (!state.tenant) {
    main.append(h('h1', {}, 'No tenant yet'), h('p', {}, 'Create one with ', h('code', {}, 'crossbill tenant create NAME'), ' or POST /api/v1/tenants.'));
    return;
  }
  const ctx = {
    tenant: state.tenant, me: state.me, args: rest.map(decodeURIComponent),
    base: `/api/v1/tenants/${encodeURIComponent(state.tenant)}`,
    canWrite: state.me.scope === 'admin',
  };
  try {
    current = await page(main, ctx) || null;
  } catch (err) {
    main.append(errorBox(err));
  }
  document.title = `${(main.querySelector('h1') || {}).textContent || 'crossbill'} · crossbill`;
}

window.addEventListener('hashchange', () => { route(); main.focus({ preventScroll: true }); });

if (session.token) start().catch(() => signIn('Sign in again.'));
else signIn();
