// Optimize: the newest evaluation's recommendations, savings by rule and
// by account, one recommendation's evidence (the metric series against the
// rule's threshold), CSV export, and the rules' thresholds.
import { api, download } from '../api.js';
import { h, clear, field, select, table, fmtMoney, fmtMoneyShort, fmtNum, fmtTime, loading, errorBox, toast } from '../dom.js';
import { lines, stackedBars } from '../chart.js';

const recsPattern = '/api/v1/tenants/{tenant}/optimize/recommendations';

export default async function optimize(main, ctx) {
  main.append(h('h1', {}, 'Optimize'));
  const summary = h('section', { 'aria-labelledby': 'opt-sum-h' }, h('h2', { id: 'opt-sum-h' }, 'Savings'));
  const list = h('section', { 'aria-labelledby': 'opt-list-h' }, h('h2', { id: 'opt-list-h' }, 'Recommendations'));
  const detail = h('section', { 'aria-labelledby': 'opt-detail-h', hidden: true });
  const rules = h('section', { 'aria-labelledby': 'opt-rules-h' }, h('h2', { id: 'opt-rules-h' }, 'Rules and thresholds'));
  main.append(summary, list, detail, rules);

  const rule = select([['', 'All rules']], '');
  const account = select([['', 'All accounts']], '');
  const state = select([['open', 'Open'], ['resolved', 'Resolved'], ['all', 'All']], 'open');
  const out = h('div', { 'aria-live': 'polite' });
  const actions = h('div', { class: 'actions' });
  const form = h('form', { class: 'form', 'aria-label': 'Filter recommendations' }, field('Rule', rule), field('Account', account), field('State', state), h('button', { type: 'submit' }, 'Show'));
  list.append(form, actions, out);

  const query = () => {
    const q = new URLSearchParams();
    if (rule.value) q.set('rule', rule.value);
    if (account.value) q.set('account', account.value);
    if (state.value !== 'open') q.set('state', state.value);
    return q;
  };
  if (ctx.can('GET', `${recsPattern}/export`)) {
    actions.append(h('button', { type: 'button', class: 'secondary', onclick: async () => {
      try { await download(`${ctx.base}/optimize/recommendations/export?${query()}`, 'recommendations.csv'); } catch (err) { toast(err.message); }
    } }, 'Export CSV'));
  }
  if (ctx.can('POST', '/api/v1/tenants/{tenant}/optimize/evaluate')) {
    actions.append(h('button', { type: 'button', class: 'secondary', onclick: async () => {
      try {
        const e = await api(`${ctx.base}/optimize/evaluate`, { method: 'POST' });
        toast(`Evaluated ${e.resources} resources: ${e.summary.count} recommendations`);
        await run(true);
      } catch (err) { toast(err.message); }
    } }, 'Evaluate now'));
  }

  const show = async (id) => {
    detail.hidden = false;
    clear(detail).append(h('h2', { id: 'opt-detail-h' }, 'Evidence'));
    const body = h('div');
    detail.append(body);
    try {
      renderDetail(body, await loading(body, api(`${ctx.base}/optimize/recommendations/${encodeURIComponent(id)}`)));
      detail.scrollIntoView({ block: 'start' });
    } catch { /* loading shows it */ }
  };

  let first = true;
  const run = async (refill) => {
    let d;
    try {
      d = await loading(out, api(`${ctx.base}/optimize/recommendations?${query()}`));
    } catch (err) {
      if (first) clear(summary).append(h('h2', { id: 'opt-sum-h' }, 'Savings'), errorBox(err));
      return;
    }
    if (first || refill) {
      renderSummary(summary, d);
      const rules = d.summary.by_rule.map((g) => g.key);
      const accounts = d.summary.by_account.map((g) => g.key);
      if (first) {
        for (const r of rules) rule.append(h('option', { value: r }, r));
        for (const a of accounts) account.append(h('option', { value: a }, a));
      }
      first = false;
    }
    const basis = (r) => (r.savings.basis === 'after-discounts' ? 'after discounts (CUR)' : r.savings.cost_source === 'none' ? 'not measurable' : 'before discounts (list price)');
    out.append(table([
      { label: 'Rule', value: (r) => r.rule },
      { label: 'Action', value: (r) => r.action },
      { label: 'Account', value: (r) => r.account_id },
      { label: 'Resource', value: (r) => h('code', {}, r.resource_id) },
      { label: 'Change', value: (r) => [r.current, r.target].filter(Boolean).join(' → ') },
      { label: 'Monthly saving', value: (r) => fmtMoney(r.savings.monthly), num: true },
      { label: 'Basis', value: basis },
      { label: 'Confidence', value: (r) => r.confidence },
      { label: 'Evidence', value: (r) => h('button', { type: 'button', class: 'link', 'aria-label': `Evidence for ${r.resource_id} (${r.rule})`, onclick: () => show(r.id) }, 'Show') },
    ], d.recommendations, { caption: `${d.recommendations.length} recommendations, ${fmtMoney(d.summary.total_monthly)} a month (a resource counted once)`, empty: 'No recommendations for this filter.' }));
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); run(false); });
  await run(false);
  if (ctx.args[0]) await show(ctx.args[0]);
  await rulesTable(rules, ctx);
}

function renderSummary(sec, d) {
  clear(sec).append(h('h2', { id: 'opt-sum-h' }, 'Savings'),
    h('div', { class: 'cards' },
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Monthly savings'), h('div', { class: 'value' }, fmtMoney(d.summary.total_monthly)), h('div', { class: 'muted' }, '730-hour month')),
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Recommendations'), h('div', { class: 'value' }, String(d.summary.count))),
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Resources evaluated'), h('div', { class: 'value' }, String(d.resources)), h('div', { class: 'muted' }, fmtTime(d.evaluated_at)))),
    h('h3', {}, 'Savings by rule'),
    stackedBars({ labels: d.summary.by_rule.map((g) => g.key), title: 'Monthly savings by rule', yFormat: fmtMoneyShort, yLabel: 'USD',
      series: [{ name: 'monthly savings', values: d.summary.by_rule.map((g) => g.monthly) }] }),
    h('h3', {}, 'Savings by account'),
    stackedBars({ labels: d.summary.by_account.map((g) => g.key), title: 'Monthly savings by account', yFormat: fmtMoneyShort, yLabel: 'USD',
      series: [{ name: 'monthly savings', values: d.summary.by_account.map((g) => g.monthly) }] }));
}

function renderDetail(body, r) {
  const s = r.savings;
  const row = (k, v) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v));
  body.append(h('p', {}, h('strong', {}, r.summary)),
    h('table', { class: 'kv' }, h('tbody', {},
      row('Recommendation', h('code', {}, r.id)),
      row('Resource', [h('code', {}, r.arn), ` (${r.resource_type}, ${r.region})`]),
      row('Action', [r.action, r.target ? ` → ${r.target}` : '']),
      row('Monthly saving', `${fmtMoney(s.monthly)} ${s.basis.replace('-', ' ')}; before discounts ${fmtMoney(s.monthly_before_discounts)}, after ${fmtMoney(s.monthly_after_discounts)}`),
      row('Cost from', s.cost_label),
      s.note ? row('Note', s.note) : null,
      row('Effort', r.effort), row('Restart needed', r.restart_needed ? 'yes' : 'no'),
      row('Rollback', r.rollback), row('Confidence', r.confidence), row('Commitments', r.commitment_interaction),
      row('Test', r.evidence.test))),
    table([
      { label: 'Check', value: (c) => c.name },
      { label: 'Observed', value: (c) => `${fmtNum(c.observed, 2)} ${c.unit || ''}`, num: true },
      { label: 'Threshold', value: (c) => `${c.op} ${fmtNum(c.threshold, 2)} ${c.unit || ''}` },
      { label: 'Passes', value: (c) => (c.pass ? 'yes' : 'no') },
    ], r.evidence.checks, { caption: 'Threshold tests' }));
  for (const sr of r.evidence.series || []) {
    const labels = sr.points.map((p) => String(p.at).slice(5, 10));
    const refs = (r.evidence.limits || []).filter((l) => l.metric === sr.metric && l.stat === sr.stat).map((l) => ({ value: l.value, label: l.label }));
    body.append(h('h3', {}, `${sr.namespace} ${sr.metric} (${sr.stat}, ${sr.period_seconds / 3600} h)`),
      lines({ labels, title: `${sr.metric} ${sr.stat} of ${r.resource_id}`, yFormat: (v) => fmtNum(v, 1), yLabel: sr.metric,
        series: [{ name: `${sr.metric} ${sr.stat}`, values: sr.points.map((p) => p.value) }],
        yMax: refs.length ? Math.max(...refs.map((x) => x.value), ...sr.points.map((p) => p.value)) : undefined, refs }));
  }
}

async function rulesTable(sec, ctx) {
  const body = h('div');
  sec.append(body);
  let views;
  try { views = await loading(body, api(`${ctx.base}/optimize/rules`)); } catch { return; }
  body.append(h('p', { class: 'muted' }, 'Thresholds apply from the next evaluation; change them with ', h('code', {}, 'crossbill optimize rules set RULE NAME=VALUE'), ' or PUT …/optimize/rules/{rule} (analyst).'),
    table([
      { label: 'Rule', value: (v) => v.name },
      { label: 'Finds', value: (v) => v.title },
      { label: 'Action', value: (v) => v.action },
      { label: 'Thresholds', value: (v) => v.params.filter((p) => p.name !== 'enabled').map((p) => `${p.name}=${fmtNum(v.values[p.name], 2)}${v.customized.includes(p.name) ? '*' : ''}`).join(', ') },
      { label: 'Enabled', value: (v) => (v.values.enabled ? 'yes' : 'no') },
      { label: 'Defaults from', value: (v) => v.anchor },
    ], views, { caption: 'Rules (* set for this tenant)' }));
}
