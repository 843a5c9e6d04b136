// Cost explorer: a stacked bar chart by any dimension over a date range,
// with filters, a table and a CSV download.
import { api, saveText } from '../api.js';
import { h, clear, field, select, table, fmtMoney, fmtMoneyShort, fmtPct, loading } from '../dom.js';
import { stackedBars } from '../chart.js';

const DIMS = [['service', 'Service'], ['account', 'Account'], ['region', 'Region'], ['usage-type', 'Usage type'], ['operation', 'Operation'], ['charge-type', 'Charge type'], ['billing-period', 'Billing period'], ['tag', 'Tag…'], ['cost-category', 'Cost category…']];

function csvCell(v) {
  const s = String(v ?? '');
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export default async function costs(main, ctx) {
  main.append(h('h1', {}, 'Cost explorer'));
  let meta = { metrics: ['amortized', 'unblended'], periods: [] };
  try { meta = await api(`${ctx.base}/costs/dimensions`); } catch { /* defaults */ }

  const params = new URLSearchParams(ctx.args[0] || '');
  const metric = select(meta.metrics, params.get('metric') || 'amortized');
  const groupKind = select(DIMS, (params.get('group_by') || 'service').split(':')[0]);
  const groupKey = h('input', { type: 'text', placeholder: 'e.g. team', value: (params.get('group_by') || '').split(':')[1] || '' });
  const keyField = field('Tag or category key', groupKey);
  const gran = select([['daily', 'Daily'], ['monthly', 'Monthly'], ['hourly', 'Hourly']], params.get('granularity') || 'daily');
  const from = h('input', { type: 'date', value: params.get('from') || meta.default_from || '' });
  const to = h('input', { type: 'date', value: params.get('to') || meta.default_to || '' });
  const filter = h('input', { type: 'text', placeholder: 'service=AmazonEC2; region=us-east-1', value: params.getAll('filter').join('; ') });
  const top = h('input', { type: 'number', min: 1, max: 50, value: params.get('top') || 8 });
  const showKey = () => { keyField.hidden = !['tag', 'cost-category'].includes(groupKind.value); };
  groupKind.addEventListener('change', showKey);
  showKey();

  const out = h('section', { 'aria-live': 'polite', 'aria-label': 'Results' });
  const form = h('form', { class: 'form', 'aria-label': 'Cost query' },
    field('Metric', metric), field('Group by', groupKind), keyField, field('Granularity', gran),
    field('From', from), field('To (exclusive)', to),
    field('Filters', filter, { wide: true, hint: 'DIM=V1,V2; separate several with ;' }), field('Top groups', top),
    h('button', { type: 'submit' }, 'Show costs'));
  main.append(form, out);
  if (meta.periods && meta.periods.length) {
    main.insertBefore(h('p', { class: 'muted' }, `Billing periods loaded: ${meta.periods.join(', ')}`), form);
  } else {
    main.insertBefore(h('p', { class: 'panel', role: 'status' }, 'No cost data yet. Ingestion runs as a background job: follow it on the ',
      h('a', { href: '#/jobs' }, 'Jobs page'), ', then come back.'), form);
  }

  let last = null;
  async function run() {
    const q = new URLSearchParams();
    q.set('metric', metric.value);
    const dim = ['tag', 'cost-category'].includes(groupKind.value) ? `${groupKind.value}:${groupKey.value.trim()}` : groupKind.value;
    q.set('group_by', dim);
    q.set('granularity', gran.value);
    if (from.value) q.set('from', from.value);
    if (to.value) q.set('to', to.value);
    for (const f of filter.value.split(';').map((x) => x.trim()).filter(Boolean)) q.append('filter', f);
    q.set('top', top.value || '8');
    history.replaceState(null, '', `#/costs/${encodeURIComponent(q.toString())}`);
    const res = await loading(out, api(`${ctx.base}/costs?${q}`));
    last = res;
    render(res);
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
      h('h2', {}, `${res.metric} cost by ${res.group_by || 'total'}, ${res.granularity}`),
      stackedBars({ labels: labels.map(fmtLabel), series, title: `${res.metric} cost by ${res.group_by || 'total'}`, yFormat: fmtMoneyShort, yLabel: 'USD' }),
      h('div', {}, h('button', { type: 'button', class: 'secondary', onclick: csv }, 'Download CSV')),
      table([
        { label: res.group_by || 'group', value: (t) => label(t.group) },
        { label: 'Total', value: (t) => fmtMoney(t.value), num: true },
        { label: 'Share', value: (t) => fmtPct(res.total ? t.value / res.total : 0), num: true },
      ], res.totals, { caption: 'Totals by group', empty: 'No cost in this range. Ingest data or widen the dates.' }));
  }

  function csv() {
    if (!last) return;
    const lines = [['period', last.group_by || 'group', last.metric].join(',')];
    for (const r of last.rows) lines.push([r.period, r.group, r.value].map(csvCell).join(','));
    saveText(lines.join('\n') + '\n', `crossbill-costs-${last.from}-${last.to}.csv`, 'text/csv');
  }

  form.addEventListener('submit', (e) => { e.preventDefault(); run().catch(() => {}); });
  await run().catch(() => {});
}
