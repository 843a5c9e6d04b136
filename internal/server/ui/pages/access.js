// Access governance: who can do what in a connection's accounts, from its
// newest access sync. #/access picks a connection with access-read,
// #/access/CONN shows principals, findings, changes and who-can, and
// #/access/CONN/principal/ID one principal's grants and permissions.
import { api } from '../api.js';
import { h, clear, field, select, table, badge, fmtTime, loading, errorBox, toast } from '../dom.js';

const SYNC = '/api/v1/tenants/{tenant}/connections/{connection}/access/sync';
const kinds = [['', 'any kind'], 'iam-user', 'iam-role', 'iam-group', 'sso-user', 'sso-group'];
const path = (p) => (p || []).join(' → ');

export default async function access(main, ctx) {
  const [conn, sub, id] = ctx.args;
  if (conn && sub === 'principal' && id) return principal(main, ctx, conn, id);
  const conns = (await api(`${ctx.base}/connections`)).filter((c) => (c.modules || []).includes('access-read'));
  main.append(h('h1', {}, 'Access'));
  if (!conns.length) {
    main.append(h('p', {}, 'No connection of this tenant has the access-read module. Add it to a connection (',
      h('code', {}, 'crossbill connect init --modules org,access-read ...'), '), deploy its templates and verify it.'));
    return;
  }
  const chosen = conns.find((c) => c.id === conn) || conns.find((c) => c.role_arn) || conns[0];
  if (conns.length > 1) {
    const pick = select(conns.map((c) => [c.id, `${c.id}${c.account_id ? ` (${c.account_id})` : ''}`]), chosen.id);
    pick.addEventListener('change', () => { location.hash = `#/access/${encodeURIComponent(pick.value)}`; });
    main.append(h('div', { class: 'form' }, field('Connection', pick)));
  }
  return overview(main, ctx, chosen);
}

async function overview(main, ctx, conn) {
  const base = `${ctx.base}/connections/${encodeURIComponent(conn.id)}/access`;
  const status = h('div');
  main.append(status);
  if (ctx.can('POST', SYNC)) {
    const err = h('div');
    const button = h('button', { type: 'button', disabled: !conn.role_arn }, 'Sync now');
    button.addEventListener('click', async () => {
      button.disabled = true;
      button.textContent = 'Syncing…';
      try {
        const r = await api(`${base}/sync`, { method: 'POST', body: {} });
        toast(`Synced ${r.accounts} account(s): ${r.principals} principals, ${(r.changes || []).length} change(s).`);
        window.dispatchEvent(new HashChangeEvent('hashchange'));
      } catch (ex) {
        clear(err).append(errorBox(ex));
        button.disabled = false;
        button.textContent = 'Sync now';
      }
    });
    main.append(h('p', {}, button), err);
  }

  let principals;
  try {
    principals = await loading(status, api(`${base}/principals`));
  } catch { return; } // loading shows why (no sync yet: the button above runs one)
  status.append(h('p', { class: 'muted', 'data-testid': 'access-sync' }, `Sync ${principals.sync_id} of ${fmtTime(principals.taken_at)}; the server syncs daily.`));
  principals.errors = principals.errors || [];
  if (principals.errors.length) {
    status.append(h('details', {}, h('summary', {}, `${principals.errors.length} part(s) the sync could not read`),
      table([
        { label: 'Account', value: (e) => e.account || '—' }, { label: 'Service', value: (e) => `${e.service} ${e.operation}` },
        { label: 'Why', value: (e) => e.message }, { label: 'Fix', value: (e) => e.fix || '—' },
      ], principals.errors)));
  }
  const findings = await api(`${base}/findings`);
  main.append(principalList(ctx, conn, principals.principals, findings.findings));
  main.append(findingList(ctx, conn, findings.findings));
  main.append(whoCan(ctx, conn, base));
  main.append(await changes(base, principals.taken_at));
}

const principalLink = (ctx, conn, id, name) => h('a', { href: `#/access/${encodeURIComponent(conn.id)}/principal/${encodeURIComponent(id)}` }, name || id);

function principalList(ctx, conn, all, findings) {
  const withFindings = new Set(findings.map((f) => f.principal));
  const kind = select(kinds, '');
  const accounts = [...new Set(all.map((p) => p.account).filter(Boolean))].sort();
  const account = select([['', 'any account'], ...accounts], '');
  const search = h('input', { type: 'search', placeholder: 'name or ID' });
  const flagged = h('input', { type: 'checkbox' });
  const body = h('div');
  const render = () => {
    const q = search.value.trim().toLowerCase();
    const rows = all.filter((p) => (!kind.value || p.kind === kind.value) && (!account.value || p.account === account.value) &&
      (!flagged.checked || withFindings.has(p.id)) && (!q || `${p.name} ${p.id}`.toLowerCase().includes(q)));
    clear(body).append(table([
      { label: 'Principal', value: (p) => principalLink(ctx, conn, p.id, p.name) },
      { label: 'Kind', value: (p) => p.kind },
      { label: 'Account', value: (p) => p.account || 'Identity Center' },
      { label: 'Grants', value: (p) => String(p.grants || 0), num: true },
      { label: 'Admin', value: (p) => (p.admin ? badge('admin', 'sev-high') : '') },
      { label: 'Findings', value: (p) => (withFindings.has(p.id) ? 'yes' : '') },
      { label: 'Last used', value: (p) => fmtTime(p.last_used) },
    ], rows, { caption: `${rows.length} of ${all.length} principals`, empty: 'No principal matches.' }));
  };
  for (const el of [kind, account, flagged]) el.addEventListener('change', render);
  search.addEventListener('input', render);
  render();
  return h('section', { 'aria-labelledby': 'principals-h' }, h('h2', { id: 'principals-h' }, 'Principals'),
    h('div', { class: 'form' }, field('Kind', kind), field('Account', account), field('Search', search), field('Only with findings', flagged)), body);
}

function findingTable(ctx, conn, fs, empty) {
  return table([
    { label: 'Severity', value: (f) => badge(f.severity, `sev-${f.severity}`) },
    { label: 'Finding', value: (f) => h('div', {}, h('strong', {}, f.title), h('div', { class: 'muted' }, f.id)) },
    { label: 'Principal', value: (f) => principalLink(ctx, conn, f.principal, f.name) },
    { label: 'Account', value: (f) => f.account || '—' },
    { label: 'Evidence', value: (f) => f.evidence },
    { label: 'Fix', value: (f) => f.fix },
  ], fs, { empty });
}

function findingList(ctx, conn, fs) {
  return h('section', { 'aria-labelledby': 'findings-h' }, h('h2', { id: 'findings-h' }, `Findings (${fs.length})`),
    findingTable(ctx, conn, fs, 'No findings.'));
}

function whoCan(ctx, conn, base) {
  const action = h('input', { type: 'text', required: true, placeholder: 'iam:PassRole', spellcheck: 'false' });
  const resource = h('input', { type: 'text', placeholder: 'arn:aws:s3:::bucket (optional)', spellcheck: 'false' });
  const out = h('div');
  const form = h('form', { 'aria-label': 'Who can' },
    h('div', { class: 'form' }, field('Action', action), field('Resource', resource, { wide: true })), h('button', { type: 'submit' }, 'Ask'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const q = new URLSearchParams({ action: action.value.trim() });
    if (resource.value.trim()) q.set('resource', resource.value.trim());
    try {
      const r = await loading(out, api(`${base}/who-can?${q}`));
      out.append(table([
        { label: 'Principal', value: (a) => principalLink(ctx, conn, a.principal, a.name) },
        { label: 'Kind', value: (a) => a.kind },
        { label: 'Account', value: (a) => a.account || '—' },
        { label: 'Decision', value: (a) => a.decision + ((a.missing_keys || []).length ? ` (${a.missing_keys.join(', ')})` : '') },
        { label: 'Path', value: (a) => path(a.path) },
        { label: 'Through', value: (a) => (a.via || []).join(', ') },
      ], r.answers, { caption: `${r.answers.length} principal(s) may call ${r.action}${r.resource ? ` on ${r.resource}` : ''}`, empty: `Nobody may call ${r.action}.` }));
    } catch { /* loading shows it */ }
  });
  return h('section', { class: 'panel', 'aria-labelledby': 'whocan-h' }, h('h2', { id: 'whocan-h' }, 'Who can'), form, out);
}

// changes lists what the syncs found changed up to a day before the
// newest one, so "since the last sync" shows after a daily sync.
async function changes(base, takenAt) {
  const since = new Date(new Date(takenAt || Date.now()).getTime() - 24 * 3600 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const box = h('section', { 'aria-labelledby': 'changes-h' }, h('h2', { id: 'changes-h' }, 'Changes in the day before the last sync'));
  try {
    const c = await api(`${base}/changes?since=${encodeURIComponent(since)}`);
    box.append(table([
      { label: 'When', value: (x) => fmtTime(x.at) }, { label: 'Change', value: (x) => x.kind },
      { label: 'Principal', value: (x) => x.principal }, { label: 'Account', value: (x) => x.account || '—' },
      { label: 'Entitlement', value: (x) => x.entitlement }, { label: 'Detail', value: (x) => x.detail || '' },
    ], c.changes, { empty: 'No change (a first sync records none).' }));
  } catch (ex) { box.append(errorBox(ex)); }
  return box;
}

async function principal(main, ctx, conn, id) {
  const base = `${ctx.base}/connections/${encodeURIComponent(conn)}/access`;
  main.append(h('p', {}, h('a', { href: `#/access/${encodeURIComponent(conn)}` }, '← Access')));
  const d = await api(`${base}/principal?id=${encodeURIComponent(id)}`);
  const p = d.principal;
  for (const k of ['grants', 'permissions', 'findings']) d[k] = d[k] || [];
  main.append(h('h1', {}, p.name || p.id),
    h('p', { class: 'muted' }, `${p.kind} · ${p.account || 'Identity Center'} · ${p.id}`, p.admin ? [' · ', badge('admin-equivalent', 'sev-high')] : ''));
  main.append(h('h2', {}, `Grants (${d.grants.length})`), table([
    { label: 'Entitlement', value: (g) => g.entitlement }, { label: 'Kind', value: (g) => g.kind },
    { label: 'Account', value: (g) => g.account || '—' }, { label: 'Path', value: (g) => path(g.path) },
  ], d.grants, { empty: 'No grants.' }));
  main.append(h('h2', {}, `Findings (${d.findings.length})`), findingTable(ctx, { id: conn }, d.findings, 'No findings.'));
  // An administrator has hundreds of services: filter them by name.
  const service = h('input', { type: 'search', placeholder: 's3, iam, …', spellcheck: 'false' });
  const perms = h('div');
  const render = () => {
    const q = service.value.trim().toLowerCase();
    clear(perms).append(table([
      { label: 'Account', value: (s) => s.account || '—' }, { label: 'Service', value: (s) => s.service },
      { label: 'Allowed', value: (s) => `${s.allowed} of ${s.of}`, num: true },
      { label: 'Denied', value: (s) => (s.denied ? `${s.denied} by ${(s.deny_by || []).join(', ')}` : '') },
      { label: 'Actions', value: (s) => ((s.actions || []).length ? h('details', {}, h('summary', {}, `${s.actions.length} action(s)`), s.actions.join(', ')) : 'all') },
      { label: 'Path', value: (s) => path(s.path) },
    ], d.permissions.filter((s) => !q || s.service.toLowerCase().includes(q)), { caption: `${d.permissions.length} service(s) in all`, empty: 'Nothing allowed.' }));
  };
  service.addEventListener('input', render);
  render();
  main.append(h('h2', {}, 'Effective permissions'), h('div', { class: 'form' }, field('Service', service)), perms);
}
