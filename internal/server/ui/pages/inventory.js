// Inventory: the tenant's resources as last collected, with their cost and
// its source. #/inventory lists them with filters; #/inventory/r/ARN shows
// one resource with its relations and daily utilization charts.
import { api } from '../api.js';
import { h, clear, field, select, table, badge, fmtMoney, fmtNum, fmtTime, fmtDate, loading, errorBox, toast } from '../dom.js';
import { lines } from '../chart.js';

const SYNC = '/api/v1/tenants/{tenant}/connections/{connection}/inventory/sync';
const resourceLink = (r) => h('a', { href: `#/inventory/r/${encodeURIComponent(r.arn)}` }, r.name || r.id);
const costCell = (c) => (c ? h('span', { title: c.source === 'cur' ? 'amortized, from its own CUR line items' : 'on-demand list price (the CUR does not name it)' },
  fmtMoney(c.monthly_amortized), ' ', badge(c.source, c.source === 'cur' ? 'status-verified' : 'status-pending')) : '—');

export default async function inventory(main, ctx) {
  const [sub, arn] = ctx.args;
  if (sub === 'r' && arn) return detail(main, ctx, arn);
  main.append(h('h1', {}, 'Inventory'));
  const status = h('div');
  main.append(status);
  const conns = (await api(`${ctx.base}/connections`)).filter((c) => (c.modules || []).includes('inventory') && c.role_arn);
  for (const c of conns) {
    if (!ctx.can('POST', SYNC)) break;
    const err = h('div');
    const button = h('button', { type: 'button' }, `Sync ${c.id} now`);
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const j = await api(`${ctx.base}/connections/${encodeURIComponent(c.id)}/inventory/sync`, { method: 'POST' });
        toast(`Inventory sync queued (job ${j.id}); see Jobs for its progress.`);
      } catch (ex) { clear(err).append(errorBox(ex)); }
      button.disabled = false;
    });
    main.append(h('p', {}, button), err);
  }
  let list;
  try {
    list = await loading(status, api(`${ctx.base}/inventory`));
  } catch { return; }
  for (const s of list.syncs || []) {
    status.append(h('p', { class: 'muted', 'data-testid': 'inventory-sync' },
      `Connection ${s.connection_id}: synced ${fmtTime(s.finished_at)}, ${s.resources} resource(s) in ${s.accounts} account(s) and ${s.regions} region(s); the server syncs daily.`));
    if ((s.failures || []).length) {
      status.append(h('details', {}, h('summary', {}, `${s.failures.length} part(s) the sync could not read`),
        table([
          { label: 'Account', value: (f) => f.account_id }, { label: 'Region', value: (f) => f.region || '—' },
          { label: 'Service', value: (f) => `${f.service} ${f.operation}` }, { label: 'Why', value: (f) => f.message }, { label: 'Fix', value: (f) => f.fix || '—' },
        ], s.failures)));
    }
  }
  if (!list.resources.length) {
    main.append(h('p', {}, 'No resources yet. Add the inventory module to a connection, verify it, then sync (',
      h('code', {}, 'crossbill inventory sync --tenant ' + ctx.tenant), ').'));
    return;
  }
  main.append(resourceList(list.resources));
}

function resourceList(all) {
  const opts = (f, any) => [['', any], ...[...new Set(all.map(f).filter(Boolean))].sort()];
  const account = select(opts((r) => r.account_id, 'any account'), '');
  const region = select(opts((r) => r.region, 'any region'), '');
  const kind = select(opts((r) => `${r.service} ${r.type}`, 'any kind'), '');
  const search = h('input', { type: 'search', placeholder: 'name, ID or tag' });
  const body = h('div');
  const render = () => {
    const q = search.value.trim().toLowerCase();
    const rows = all.filter((r) => (!account.value || r.account_id === account.value) && (!region.value || r.region === region.value) &&
      (!kind.value || `${r.service} ${r.type}` === kind.value) &&
      (!q || `${r.name || ''} ${r.id} ${Object.entries(r.tags || {}).map(([k, v]) => `${k}=${v}`).join(' ')}`.toLowerCase().includes(q)));
    const total = rows.reduce((s, r) => s + (r.cost ? r.cost.monthly_amortized : 0), 0);
    clear(body).append(table([
      { label: 'Resource', value: resourceLink },
      { label: 'Kind', value: (r) => `${r.service} ${r.type}` },
      { label: 'Account', value: (r) => r.account_id },
      { label: 'Region', value: (r) => r.region },
      { label: 'State', value: (r) => r.state || '—' },
      { label: 'Monthly cost', value: (r) => costCell(r.cost), num: true },
      { label: 'Fetched', value: (r) => fmtTime(r.fetched) },
    ], rows, { caption: `${rows.length} of ${all.length} resources, ${fmtMoney(total)} a month`, empty: 'No resource matches.' }));
  };
  for (const el of [account, region, kind]) el.addEventListener('change', render);
  search.addEventListener('input', render);
  render();
  return h('section', { 'aria-labelledby': 'resources-h' }, h('h2', { id: 'resources-h' }, 'Resources'),
    h('div', { class: 'form' }, field('Account', account), field('Region', region), field('Kind', kind), field('Search', search)), body);
}

async function detail(main, ctx, arn) {
  main.append(h('p', {}, h('a', { href: '#/inventory' }, '← Inventory')));
  const d = await api(`${ctx.base}/inventory/resource?arn=${encodeURIComponent(arn)}`);
  const r = d.resource;
  main.append(h('h1', {}, r.name || r.id),
    h('p', { class: 'muted' }, `${r.service} ${r.type} · ${r.account_id} · ${r.region} · ${r.state || 'no state'} · fetched ${fmtTime(r.fetched)}`),
    h('p', {}, h('code', {}, r.arn), r.console_url ? [' · ', h('a', { href: r.console_url, rel: 'noopener noreferrer', target: '_blank' }, 'AWS console')] : ''));
  if (r.cost) {
    main.append(h('p', { 'data-testid': 'inventory-cost' }, `${fmtMoney(r.cost.monthly_amortized)} a month amortized, ${fmtMoney(r.cost.monthly_on_demand)} on demand (730 hours), from `,
      r.cost.source === 'cur' ? 'its own CUR line items' : 'the on-demand price list', r.cost.covered_by_commitment ? ' · partly covered by a commitment' : ''));
  }
  const kv = (m) => Object.entries(m || {}).sort(([a], [b]) => a.localeCompare(b));
  main.append(h('h2', {}, 'Details'), table([{ label: 'Field', value: (x) => x[0] }, { label: 'Value', value: (x) => (typeof x[1] === 'object' ? JSON.stringify(x[1]) : String(x[1])) }],
    [...kv(r.metadata), ...kv(r.tags).map(([k, v]) => [`tag ${k}`, v]), ['created', fmtDate(r.created)]], { empty: 'No details.' }));
  main.append(h('h2', {}, 'Relations'), table([
    { label: 'Relation', value: (x) => x.kind },
    { label: 'Resource', value: (x) => h('a', { href: `#/inventory/r/${encodeURIComponent(x.target)}` }, x.target) },
  ], r.relations || [], { empty: 'No relation.' }));
  const util = h('section', { 'aria-labelledby': 'util-h' }, h('h2', { id: 'util-h' }, 'Utilization'));
  main.append(util);
  const u = d.utilization;
  if (!u || !(u.series || []).length) {
    util.append(h('p', { class: 'muted' }, 'No CloudWatch data for this resource over the window.'));
    return;
  }
  util.append(h('p', { class: 'muted' }, `Daily points from ${fmtDate(u.from)} to ${fmtDate(u.to)}.`));
  // One chart per metric (statistics of one metric share a unit).
  const byMetric = new Map();
  for (const s of u.series) byMetric.set(s.metric, [...(byMetric.get(s.metric) || []), s]);
  for (const [metric, ss] of byMetric) {
    const days = [...new Set(ss.flatMap((s) => s.points.map((p) => fmtDate(p.at))))].sort();
    util.append(lines({ labels: days, title: `${metric} (${ss[0].namespace})`, yFormat: (v) => fmtNum(v), yLabel: ss[0].unit || '',
      series: ss.map((s) => ({ name: `${metric} ${s.stat}`, values: days.map((day) => { const p = s.points.find((x) => fmtDate(x.at) === day); return p ? p.value : null; }) })) }));
  }
}
