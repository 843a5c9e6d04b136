// Commitments: inventory and expirations, utilization and coverage charts,
// recommendations with a what-if control, and purchase plans (guardrails,
// new plan, approval state, execute and cancel).
import { api, costSource } from '../api.js';
import { h, clear, field, select, table, badge, toast, fmtMoney, fmtMoneyShort, fmtPct, fmtDate, fmtNum, loading, errorBox } from '../dom.js';
import { lines, stackedBars } from '../chart.js';

export default async function commitments(main, ctx) {
  main.append(h('h1', {}, 'Commitments'));
  const inv = h('section', { 'aria-labelledby': 'inv-h' }, h('h2', { id: 'inv-h' }, 'Inventory'));
  const use = h('section', { 'aria-labelledby': 'use-h' }, h('h2', { id: 'use-h' }, 'Utilization and coverage'));
  const rec = h('section', { 'aria-labelledby': 'rec-h' }, h('h2', { id: 'rec-h' }, 'Recommendations'));
  const buy = h('section', { 'aria-labelledby': 'buy-h' }, h('h2', { id: 'buy-h' }, 'Purchase plans'));
  main.append(inv, use, rec, buy);
  costSource.note = '';
  await Promise.allSettled([inventory(inv, ctx), utilization(use, ctx), recommendations(rec, ctx), plans(buy, ctx)]);
  // A tenant whose cost engine is Athena: these analyses run in Athena,
  // and the answers say so (header).
  if (costSource.note) {
    main.insertBefore(h('p', { class: 'panel', role: 'note', 'data-testid': 'cost-source-note' },
      h('strong', {}, 'Cost source: '), costSource.note), inv);
  }
}

// plans: the tenant's purchase plans. Analysts write them, a person other
// than the author approves them in the Approvals inbox, admins execute
// them (safe to repeat) or cancel them (queued Savings Plans are deleted).
async function plans(sec, ctx) {
  const P = '/api/v1/tenants/{tenant}/commitments/plans';
  const rails = h('div');
  const list = h('div', { 'aria-live': 'polite' });
  sec.append(rails);
  if (ctx.can('POST', P)) sec.append(planForm(ctx, () => refresh()));
  sec.append(list);
  const act = (v, what) => async () => {
    try {
      const body = what === 'cancel' ? { reason: 'cancelled from the Commitments page' } : undefined;
      const r = await api(`${ctx.base}/commitments/plans/${encodeURIComponent(v.id)}/${what}`, { method: 'POST', body });
      toast(`Plan ${r.id}: ${r.state}${(r.notes || []).length ? ` (${r.notes.join('; ')})` : ''}`);
      refresh();
    } catch (err) { list.prepend(errorBox(err)); }
  };
  const refresh = async () => {
    try {
      const [g, ps] = await Promise.all([api(`${ctx.base}/commitments/guardrails`), loading(list, api(`${ctx.base}/commitments/plans`))]);
      const lim = (v, f) => (v ? f(v) : 'no limit');
      clear(rails).append(h('div', { class: 'cards' },
        h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Max new commitment a month'), h('div', { class: 'value' }, lim(g.max_hourly_commitment_per_month, (v) => `${fmtMoney(v)}/h`))),
        h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Max upfront per plan'), h('div', { class: 'value' }, lim(g.max_upfront, fmtMoney))),
        h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Min expected utilization'), h('div', { class: 'value' }, lim(g.min_expected_utilization, fmtPct)))));
      list.append(table([
        { label: 'Plan', value: (v) => h('code', {}, v.id) },
        { label: 'State', value: (v) => badge(v.state) },
        { label: 'What', value: (v) => `${v.plan.type} ${v.plan.count ? `${v.plan.count} × ${v.plan.instance_type}` : `${fmtNum(v.plan.hourly_commitment, 3)} $/h`}, ${v.plan.term_years}y ${v.plan.payment_option}` },
        { label: 'Offering', value: (v) => (v.plan.sale ? 'Marketplace listing' : [h('code', {}, v.plan.offering.id), v.plan.offering.description ? ` ${v.plan.offering.description}` : '']) },
        { label: 'Tranches', value: (v) => v.tranches.map((t) => `${fmtDate(t.due)} ${t.state}${t.commitment_id ? ` ${t.commitment_id}` : ''}`).join(', ') },
        { label: 'Upfront', value: (v) => fmtMoney(v.plan.upfront_cost), num: true },
        { label: 'Monthly', value: (v) => fmtMoney(v.plan.monthly_recurring_cost), num: true },
        { label: 'Expected utilization', value: (v) => (v.plan.expected ? fmtPct(v.plan.expected.expected_utilization) : h('span', { title: v.plan.expected_basis || '' }, 'unknown')), num: true },
        { label: 'If usage drops 20% / 30%', value: (v) => downside(v.plan) },
        { label: 'Author', value: (v) => v.person || v.created_by },
        { label: 'Actions', value: (v) => [
          ['approved', 'executing'].includes(v.state) && ctx.can('POST', `${P}/{plan}/execute`) ? h('button', { type: 'button', onclick: act(v, 'execute') }, 'Execute') : null, ' ',
          ['pending-approval', 'approved', 'executing', 'done'].includes(v.state) && ctx.can('POST', `${P}/{plan}/cancel`) ? h('button', { type: 'button', class: 'secondary', onclick: act(v, 'cancel') }, 'Cancel') : null] },
      ], ps, { caption: 'Approve pending plans in the Approvals inbox (never your own).', empty: 'No purchase plans yet.' }));
    } catch (err) { clear(list).append(errorBox(err)); }
  };
  await refresh();
}

// downside is the monthly savings a plan keeps if usage drops 20% and
// 30%, computed from the tenant's usage; unknown (and why, as the
// expected utilization says) without usage to estimate from.
function downside(p) {
  const e = p.expected;
  if (!e) return h('span', { title: p.expected_basis || '' }, 'unknown');
  return `${fmtMoney(e.downside_monthly_savings_20)} / ${fmtMoney(e.downside_monthly_savings_30)} a month`;
}

function planForm(ctx, done) {
  const conn = h('input', { type: 'text', placeholder: 'conn_...', required: true });
  const type = select([['ComputeSavingsPlans', 'Compute Savings Plan'], ['EC2InstanceSavingsPlans', 'EC2 Instance Savings Plan'], ['EC2', 'EC2 Reserved Instances'],
    ['RDS', 'RDS reserved DB instances'], ['ElastiCache', 'ElastiCache reserved nodes'], ['OpenSearch', 'OpenSearch reserved instances'], ['Redshift', 'Redshift reserved nodes']], 'ComputeSavingsPlans');
  const term = select([['1', '1 year'], ['3', '3 years']], '1');
  const pay = select([['No Upfront', 'No upfront'], ['Partial Upfront', 'Partial upfront'], ['All Upfront', 'All upfront']], 'No Upfront');
  const size = h('input', { type: 'number', min: 0, step: 'any', value: 1 });
  const region = h('input', { type: 'text', placeholder: 'us-east-1' });
  const detail = h('input', { type: 'text', placeholder: 'm5, m5.large, db.r6g.large' });
  const engine = h('input', { type: 'text', placeholder: 'postgresql, redis' });
  const tranches = h('input', { type: 'number', min: 1, max: 12, value: 1 });
  const start = h('input', { type: 'date' });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'form', 'aria-label': 'New purchase plan' },
    field('Connection', conn, { hint: 'needs the commitments-purchase module' }), field('Type', type), field('Term', term), field('Payment', pay),
    field('$/h or count', size), field('Region', region), field('Family or instance type', detail), field('Engine', engine, { hint: 'RDS, ElastiCache: when AWS sells the type for several' }),
    field('Tranches', tranches, { hint: 'a month apart' }),
    field('Start', start), h('button', { type: 'submit' }, 'Plan'), out);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const ri = !type.value.endsWith('SavingsPlans');
    const body = { connection: conn.value.trim(), type: type.value, term_years: Number(term.value), payment_option: pay.value, tranches: Number(tranches.value), region: region.value.trim() };
    if (ri) { body.count = Number(size.value); body.instance_type = detail.value.trim(); if (engine.value.trim()) body.platform = engine.value.trim(); } else { body.hourly_commitment = Number(size.value); body.family = detail.value.trim(); }
    if (start.value) body.start = `${start.value}T00:00:00Z`;
    try {
      const v = await api(`${ctx.base}/commitments/plans`, { method: 'POST', body });
      clear(out);
      toast(`Plan ${v.id} written: waiting for approval.`);
      done();
    } catch (err) { clear(out).append(errorBox(err)); }
  });
  return form;
}

async function inventory(sec, ctx) {
  const body = h('div');
  sec.append(body);
  const d = await loading(body, api(`${ctx.base}/commitments`));
  body.append(
    h('div', { class: 'cards' }, (d.expirations || []).map((b) => h('div', { class: 'card' },
      h('div', { class: 'muted' }, `Ending within ${b.days} days`), h('div', { class: 'value' }, String(b.count)),
      h('div', { class: 'muted' }, `${fmtMoney(b.hourly_commitment_ending)}/h`)))),
    table([
      { label: 'Type', value: (c) => c.type },
      { label: 'ID', value: (c) => h('code', {}, c.id || c.arn) },
      { label: 'Account', value: (c) => c.account },
      { label: 'Scope', value: (c) => [c.region, c.family, c.instance_type].filter(Boolean).join(' ') || 'any' },
      { label: 'Term', value: (c) => `${fmtNum(c.term_years, 1)} y`, num: true },
      { label: 'Payment', value: (c) => c.payment_option },
      { label: 'Commitment $/h', value: (c) => fmtNum(c.hourly_commitment, 3), num: true },
      { label: 'Ends', value: (c) => fmtDate(c.end) },
    ], d.inventory, { caption: `${(d.inventory || []).length} Savings Plans and reservations`, empty: 'No commitments found.' }));
}

async function utilization(sec, ctx) {
  const body = h('div');
  sec.append(body);
  const d = await loading(body, api(`${ctx.base}/commitments/utilization`));
  const days = d.daily.map((r) => r.period.slice(5, 10));
  body.append(
    h('div', { class: 'cards' },
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Utilization'), h('div', { class: 'value' }, fmtPct(d.total.utilization))),
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Unused commitment'), h('div', { class: 'value' }, fmtMoney(d.total.unused))),
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Net savings vs on-demand'), h('div', { class: 'value' }, fmtMoney(d.total.net_savings))),
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Coverage'), h('div', { class: 'value' }, fmtPct(d.coverage_total)))),
    h('h3', {}, 'Daily utilization and coverage'),
    lines({ labels: days, title: 'Commitment utilization and coverage by day', yFormat: fmtPct, yLabel: 'share', yMax: 1,
      series: [{ name: 'utilization', values: d.daily.map((r) => r.utilization) }, { name: 'coverage', values: d.coverage.map((r) => r.coverage) }] }),
    h('h3', {}, 'Eligible on-demand-equivalent spend by day'),
    stackedBars({ labels: d.coverage.map((r) => r.period.slice(5, 10)), title: 'Eligible spend: covered by Savings Plans, reservations, or on demand', yFormat: fmtMoneyShort, yLabel: 'USD',
      series: [
        { name: 'Savings Plans', values: d.coverage.map((r) => r.covered_by_savings_plans) },
        { name: 'Reservations', values: d.coverage.map((r) => r.covered_by_reservations) },
        { name: 'On demand', values: d.coverage.map((r) => r.on_demand) }] }),
    table([
      { label: 'Commitment', value: (s) => h('code', {}, s.key) },
      { label: 'Paid', value: (s) => fmtMoney(s.commitment), num: true },
      { label: 'Used', value: (s) => fmtMoney(s.used), num: true },
      { label: 'Unused', value: (s) => fmtMoney(s.unused), num: true },
      { label: 'Utilization', value: (s) => fmtPct(s.utilization), num: true },
      { label: 'Net savings', value: (s) => fmtMoney(s.net_savings), num: true },
    ], d.by_commitment, { caption: 'Per commitment' }));
}

async function recommendations(sec, ctx) {
  const type = select([['', 'All types'], 'COMPUTE_SP', 'EC2_INSTANCE_SP', 'RDS_RI', 'ELASTICACHE_RI', 'OPENSEARCH_RI', 'REDSHIFT_RI'], '');
  const term = select([['1', '1 year'], ['3', '3 years']], '1');
  const pay = select([['NO_UPFRONT', 'No upfront'], ['PARTIAL_UPFRONT', 'Partial upfront'], ['ALL_UPFRONT', 'All upfront']], 'NO_UPFRONT');
  const lookback = select([['7', '7 days'], ['30', '30 days'], ['60', '60 days']], '30');
  // The API's rank: risk (trend-adjusted, by savings if usage drops 20%,
  // risky options hidden) or the exact lookback optimum of every option.
  const rank = select([['risk', 'Risk-adjusted'], ['optimum', 'Exact optimum']], 'risk');
  const breakEven = select([['6', '6 months'], ['12', '12 months'], ['24', '24 months'], ['0', 'No limit']], '12');
  const drop = h('input', { type: 'range', min: 0, max: 30, step: 10, value: 0, 'aria-valuetext': '0% usage drop' });
  const dropOut = h('output', {}, '0%');
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'form', 'aria-label': 'Recommendation options' },
    field('Type', type), field('Term', term), field('Payment', pay), field('Lookback', lookback),
    field('Rank', rank, { hint: 'risk-adjusted ranks by savings if usage drops 20%' }), field('Break-even within', breakEven, { hint: 'risk-adjusted only' }),
    h('button', { type: 'submit' }, 'Recommend'));
  const whatIf = h('div', { class: 'form' }, field('What if usage drops by', drop, { hint: 'savings recomputed for lower usage' }), dropOut);
  sec.append(form, whatIf, out);
  let recs = [];
  const render = () => {
    const d = Number(drop.value) / 100;
    dropOut.textContent = `${drop.value}%`;
    drop.setAttribute('aria-valuetext', `${drop.value}% usage drop`);
    const pick = (r) => (d === 0 ? { monthly_savings: r.monthly_savings, utilization: r.expected_utilization }
      : (r.if_usage_drops || []).find((s) => Math.abs(s.usage_drop - d) < 1e-6) || { monthly_savings: NaN, utilization: NaN });
    const shown = recs.filter((r) => r.hourly_commitment > 0 || r.count > 0);
    const label = (r) => [r.type, r.key, `${r.term_years}y`, r.payment_option].filter(Boolean).join(' ');
    const whys = recs.filter((r) => r.why); // a row held at zero is not in the table, but its reason is
    const note = rank.value === 'optimum' ? 'Exact lookback optimum of every option, by expected monthly savings.'
      : `Ranked by monthly savings if usage drops 20%; options breaking even ${breakEven.value === '0' ? 'never' : `after month ${breakEven.value}`} or losing money in that drop are hidden.`;
    clear(out).append(h('p', { class: 'muted' }, note), table([
      { label: 'Type', value: (r) => r.type },
      { label: 'Scope', value: (r) => [r.key || 'all eligible usage', r.scope].filter(Boolean).join(' · ') },
      { label: 'Commitment $/h', value: (r) => (r.count ? `${r.count} × ${r.instance_type}` : fmtNum(r.hourly_commitment, 3)), num: true },
      { label: 'Upfront', value: (r) => fmtMoney(r.upfront_cost), num: true },
      { label: 'Monthly savings', value: (r) => fmtMoney(pick(r).monthly_savings), num: true },
      { label: 'If usage −20%', value: (r) => fmtMoney(r.downside_monthly_savings_20), num: true },
      { label: 'If usage −30%', value: (r) => fmtMoney(r.downside_monthly_savings_30), num: true },
      { label: 'Savings %', value: (r) => fmtPct(r.savings_percent), num: true },
      { label: 'Utilization', value: (r) => fmtPct(pick(r).utilization), num: true },
      { label: 'Coverage', value: (r) => fmtPct(r.expected_coverage), num: true },
      { label: 'Break-even', value: (r) => (r.break_even_month ? `month ${r.break_even_month}` : '—'), num: true },
      { label: 'Trend', value: (r) => (r.trend ? (r.trend.action === 'none' ? r.trend.direction : `${r.trend.direction}: ${r.trend.action}`) : '') },
    ], shown, { caption: d ? `If usage drops ${drop.value}%` : 'Expected', empty: 'Nothing worth buying for these options within the risk limits.' }),
    ...(whys.length ? [h('ul', { class: 'muted', 'aria-label': 'Why the trend changed these commitments' }, whys.map((r) => h('li', {}, `${label(r)}: ${r.why}`)))] : []));
  };
  drop.addEventListener('input', render);
  const run = async () => {
    const q = new URLSearchParams({ terms: term.value, payments: pay.value, lookback_days: lookback.value, rank: rank.value, max_break_even_months: breakEven.value });
    if (type.value) q.set('types', type.value);
    try {
      recs = await loading(out, api(`${ctx.base}/commitments/recommendations?${q}`));
      render();
    } catch (err) { clear(out).append(errorBox(err)); }
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); run(); });
  await run();
}
