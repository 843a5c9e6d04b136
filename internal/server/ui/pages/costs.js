// Cost explorer: a stacked bar chart by any dimension over a date range,
// with filters and a table; saved views (open: every role; save, delete:
// analyst) and the CSV export (analyst), both through the API.
import { api, download } from '../api.js';
import { h, clear, field, select, table, fmtMoney, fmtMoneyShort, fmtPct, loading, athenaNote, fmtBytes, fmtUSDSmall } from '../dom.js';
import { stackedBars } from '../chart.js';

const DIMS = [['service', 'Service'], ['account', 'Account'], ['region', 'Region'], ['usage-type', 'Usage type'], ['operation', 'Operation'], ['charge-type', 'Charge type'], ['billing-period', 'Billing period'], ['tag', 'Tag…'], ['cost-category', 'Cost category…']];

// viewParams turns a saved view's query into the page's parameters.
function viewParams(q) {
  const p = new URLSearchParams();
  for (const k of ['metric', 'group_by', 'granularity', 'from', 'to']) if (q[k]) p.set(k, q[k]);
  for (const f of q.filters || []) p.append('filter', f);
  if (q.billing_periods && q.billing_periods.length) p.append('filter', `billing-period=${q.billing_periods.join(',')}`);
  if (q.top) p.set('top', String(q.top));
  return p;
}

export default async function costs(main, ctx) {
  main.append(h('h1', {}, 'Cost explorer'));
  let meta = { metrics: ['amortized', 'unblended'], periods: [] };
  try { meta = await api(`${ctx.base}/costs/dimensions`); } catch { /* defaults */ }

  const params = new URLSearchParams(ctx.args[0] || '');
  const metric = select(meta.metrics, params.get('metric') || 'amortized');
  const groupKind = select(DIMS, (params.get('group_by') || 'service').split(':')[0]);
  // The key picker offers the keys the tenant's engine lists (tag keys
  // from the CUR's tag map, cost categories), fetched when first needed.
  const keyList = h('datalist', { id: 'group-keys' });
  const groupKey = h('input', { type: 'text', placeholder: 'e.g. team', list: 'group-keys', value: (params.get('group_by') || '').split(':')[1] || '' });
  const keyField = field('Tag or category key', groupKey);
  const keyHint = h('small', { class: 'muted', 'data-testid': 'key-count' });
  const keyNote = h('div');
  keyField.append(keyList, keyHint, keyNote);
  const listed = {};
  async function listKeys(kind) {
    if (!listed[kind]) {
      listed[kind] = api(`${ctx.base}/costs/dimensions?values=${encodeURIComponent(kind)}`).catch(() => null);
    }
    const m = await listed[kind];
    if (groupKind.value !== kind) return;
    clear(keyList);
    clear(keyNote);
    keyHint.textContent = '';
    if (!m || !m.values) return;
    for (const v of m.values.values) keyList.append(h('option', { value: v }));
    const what = kind === 'tag' ? 'tag keys' : 'cost categories';
    keyHint.textContent = `${m.values.values.length}${m.values.truncated ? '+' : ''} ${what} in ${m.values.billing_periods.join(', ') || 'no billing period'}`;
    if (m.athena) keyNote.append(athenaNote(m.athena, 'Listed'));
  }
  const gran = select([['daily', 'Daily'], ['monthly', 'Monthly'], ['hourly', 'Hourly']], params.get('granularity') || 'daily');
  const from = h('input', { type: 'date', value: params.get('from') || meta.default_from || '' });
  const to = h('input', { type: 'date', value: params.get('to') || meta.default_to || '' });
  const filter = h('input', { type: 'text', placeholder: 'service=AmazonEC2; region=us-east-1', value: params.getAll('filter').join('; ') });
  const top = h('input', { type: 'number', min: 1, max: 50, value: params.get('top') || 8 });
  const showKey = () => {
    keyField.hidden = !['tag', 'cost-category'].includes(groupKind.value);
    if (!keyField.hidden) listKeys(groupKind.value);
  };
  groupKind.addEventListener('change', showKey);
  showKey();

  const out = h('section', { 'aria-live': 'polite', 'aria-label': 'Results' });
  const form = h('form', { class: 'form', 'aria-label': 'Cost query' },
    field('Metric', metric), field('Group by', groupKind), keyField, field('Granularity', gran),
    field('From', from), field('To (exclusive)', to),
    field('Filters', filter, { wide: true, hint: 'DIM=V1,V2; separate several with ;' }), field('Top groups', top),
    h('button', { type: 'submit' }, 'Show costs'));
  main.append(form, out);
  // An Athena tenant: where its answers come from, what this month's
  // queries cost (refreshed after each query), and the periods Athena's
  // table holds.
  const engine = h('section', { class: 'panel', 'aria-label': 'Cost engine', 'data-testid': 'cost-engine', hidden: true });
  main.insertBefore(engine, form);
  async function showEngine() {
    let e;
    try { e = await api(`${ctx.base}/costs/engine`); } catch { return; }
    const sp = e.athena_spend;
    if (e.engine !== 'athena' && !(sp && sp.queries)) return;
    clear(engine).append(
      h('p', {}, h('strong', {}, 'Cost engine: '), e.engine === 'athena'
        ? `Amazon Athena over the CUR in place (${e.athena_table}, workgroup ${e.athena_workgroup}, through connection ${e.connection_id})`
        : 'crossbill\'s cost store'),
      sp ? h('p', { 'data-testid': 'athena-spend' }, `Athena this month (${sp.month}): ${sp.queries} ${sp.queries === 1 ? 'query' : 'queries'} · ${fmtBytes(sp.scanned_bytes)} scanned · ${fmtBytes(sp.billed_bytes)} billed · ${fmtUSDSmall(sp.cost_usd)}`) : '');
    engine.hidden = false;
  }
  if (meta.engine === 'athena') {
    main.insertBefore(h('p', { class: 'muted' }, meta.periods && meta.periods.length
      ? `Billing periods in Athena's table (last 36 months): ${meta.periods.join(', ')}`
      : 'Athena\'s table holds no billing period of the last 36 months: check that the CUR export delivers.'), form);
    if (meta.athena) main.insertBefore(athenaNote(meta.athena, 'Listed'), form);
  } else if (meta.periods && meta.periods.length) {
    main.insertBefore(h('p', { class: 'muted' }, `Billing periods loaded: ${meta.periods.join(', ')}`), form);
  } else {
    main.insertBefore(h('p', { class: 'panel', role: 'status' }, 'No cost data yet. Ingestion runs as a background job: follow it on the ',
      h('a', { href: '#/jobs' }, 'Jobs page'), ', then come back.'), form);
  }

  // Saved views: open one (fills the form and runs), save the form's
  // query under a name, delete the open one.
  const viewsPath = '/api/v1/tenants/{tenant}/costs/views';
  const canSave = ctx.can('POST', viewsPath);
  const canDelete = ctx.can('DELETE', `${viewsPath}/{view}`);
  const viewSel = h('select', { 'aria-label': 'Saved view' });
  const viewName = h('input', { type: 'text', placeholder: 'e.g. EC2 by team', maxlength: 100, 'aria-label': 'View name' });
  const viewMsg = h('span', { class: 'muted', role: 'status', 'data-testid': 'view-status' });
  let views = [];
  async function loadViews(selected) {
    try { views = await api(`${ctx.base}/costs/views`); } catch { views = []; }
    clear(viewSel);
    viewSel.append(h('option', { value: '' }, views.length ? 'Open a saved view…' : 'No saved views'));
    for (const v of views) viewSel.append(h('option', { value: v.id, selected: v.id === selected }, v.name));
  }
  viewSel.addEventListener('change', () => {
    const v = views.find((x) => x.id === viewSel.value);
    if (!v) return;
    location.hash = `#/costs/${encodeURIComponent(viewParams(v.query).toString())}`;
  });
  const viewBar = h('div', { class: 'form', 'aria-label': 'Saved views' }, field('Saved views', viewSel));
  if (canSave) {
    viewBar.append(field('Save this query as', viewName), h('button', { type: 'button', class: 'secondary', onclick: () => saveView().catch((e) => { viewMsg.textContent = e.message; }) }, 'Save view'));
  }
  if (canDelete) {
    viewBar.append(h('button', { type: 'button', class: 'secondary', onclick: () => deleteView().catch((e) => { viewMsg.textContent = e.message; }) }, 'Delete view'));
  }
  viewBar.append(viewMsg);
  main.insertBefore(viewBar, form);
  await loadViews();

  async function saveView() {
    const q = query();
    const body = { name: viewName.value.trim(), query: { metric: q.get('metric'), group_by: q.get('group_by'), granularity: q.get('granularity'), from: q.get('from') || '', to: q.get('to') || '', filters: q.getAll('filter'), top: Number(q.get('top')) || 0 } };
    const v = await api(`${ctx.base}/costs/views`, { method: 'POST', body });
    viewMsg.textContent = `Saved “${v.name}”.`;
    viewName.value = '';
    await loadViews(v.id);
  }
  async function deleteView() {
    const v = views.find((x) => x.id === viewSel.value);
    if (!v) { viewMsg.textContent = 'Open a saved view first.'; return; }
    await api(`${ctx.base}/costs/views/${encodeURIComponent(v.id)}`, { method: 'DELETE' });
    viewMsg.textContent = `Deleted “${v.name}”.`;
    await loadViews();
  }

  let last = null;
  let lastQuery = null;
  function query() {
    const q = new URLSearchParams();
    q.set('metric', metric.value);
    const dim = ['tag', 'cost-category'].includes(groupKind.value) ? `${groupKind.value}:${groupKey.value.trim()}` : groupKind.value;
    q.set('group_by', dim);
    q.set('granularity', gran.value);
    if (from.value) q.set('from', from.value);
    if (to.value) q.set('to', to.value);
    for (const f of filter.value.split(';').map((x) => x.trim()).filter(Boolean)) q.append('filter', f);
    q.set('top', top.value || '8');
    return q;
  }
  async function run() {
    const q = query();
    history.replaceState(null, '', `#/costs/${encodeURIComponent(q.toString())}`);
    const res = await loading(out, api(`${ctx.base}/costs?${q}`));
    last = res;
    lastQuery = q;
    render(res);
    await showEngine();
  }

  function render(res) {
    clear(out);
    const labels = [...new Set(res.rows.map((r) => r.period))].sort();
    const groups = res.totals.map((t) => t.group);
    const idx = new Map(labels.map((l, i) => [l, i]));
    // Account groups carry their Organizations names (res.names).
    const label = (g) => (res.names && res.names[g] ? `${res.names[g]} (${g})` : g);
    const series = groups.map((g) => ({ name: label(g), values: labels.map(() => 0) }));
    const sIdx = new Map(groups.map((g, i) => [g, i]));
    for (const r of res.rows) series[sIdx.get(r.group)].values[idx.get(r.period)] += r.value;
    const fmtLabel = (p) => (res.granularity === 'monthly' ? p.slice(0, 7) : res.granularity === 'hourly' ? p.slice(5, 13).replace('T', ' ') : p.slice(5, 10));
    out.append(
      h('div', { class: 'cards' },
        h('div', { class: 'card' }, h('div', { class: 'muted' }, `Total ${res.metric}`), h('div', { class: 'value', 'data-testid': 'cost-total' }, fmtMoney(res.total))),
        h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Range'), h('div', { class: 'value' }, `${res.from} → ${res.to}`)),
        h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Groups'), h('div', { class: 'value' }, String(groups.length)))),
      // Where the days come from: the CUR export, or Cost Explorer until
      // the CUR arrives (labelled, with the days it covers).
      ...(res.sources || []).map((src) => h('p', { class: 'muted', 'data-testid': 'cost-source' },
        `Source: ${src.label}, ${src.from} → ${src.to}${src.included ? '' : ` (${src.note})`}`)),
      athenaNote(res.athena),
      h('h2', {}, `${res.metric} cost by ${res.group_by || 'total'}, ${res.granularity}`),
      stackedBars({ labels: labels.map(fmtLabel), series, title: `${res.metric} cost by ${res.group_by || 'total'}`, yFormat: fmtMoneyShort, yLabel: 'USD' }),
      // Exports are the analyst's: the button shows when the role allows.
      ctx.can('GET', '/api/v1/tenants/{tenant}/costs/export') ? h('div', {}, h('button', { type: 'button', class: 'secondary', onclick: csv }, 'Download CSV')) : '',
      table([
        { label: res.group_by || 'group', value: (t) => label(t.group) },
        { label: 'Total', value: (t) => fmtMoney(t.value), num: true },
        { label: 'Share', value: (t) => fmtPct(res.total ? t.value / res.total : 0), num: true },
      ], res.totals, { caption: 'Totals by group', empty: 'No cost in this range. Ingest data or widen the dates.' }));
  }

  function csv() {
    if (!last || !lastQuery) return;
    download(`${ctx.base}/costs/export?format=csv&${lastQuery}`, `crossbill-costs-${last.from}-${last.to}.csv`).catch((e) => { viewMsg.textContent = e.message; });
  }

  form.addEventListener('submit', (e) => { e.preventDefault(); run().catch(() => {}); });
  await run().catch(() => showEngine());
}
