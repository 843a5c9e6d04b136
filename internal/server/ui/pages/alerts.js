// Alerts: the tenant's alert rules (evaluated daily, after each ingest and
// on each real-time event), its notification channels (admins add, test,
// snooze and remove them; secrets are never shown again) and the delivery
// log of every message with its attempts and last error.
import { api } from '../api.js';
import { h, table, badge, fmtTime, field, select, errorBox, toast, clear } from '../dom.js';

const KINDS = ['budget', 'anomaly', 'commitment-expiry', 'commitment-utilization', 'savings', 'access-finding', 'event'];

function params(kind, v) {
  const p = {};
  const num = (k, x) => { if (x !== '') p[k] = Number(x); };
  if (kind === 'budget') { num('amount', v.amount); if (v.scope) p.scope = v.scope; num('percent', v.percent); p.forecast = v.forecast; }
  if (kind === 'anomaly' || kind === 'savings') num('min_amount', v.amount);
  if (kind === 'commitment-expiry' || kind === 'commitment-utilization' || kind === 'anomaly') num('days', v.days);
  if (kind === 'commitment-utilization') num('below_pct', v.percent);
  if (kind === 'event' && v.scope) p.events = v.scope.split(',').map((s) => s.trim()).filter(Boolean);
  return p;
}

async function rules(out, ctx) {
  const rows = await api(`${ctx.base}/alerts/rules`);
  const canEdit = ctx.can('POST', '/api/v1/tenants/{tenant}/alerts/rules');
  const remove = (r) => async () => {
    try { await api(`${ctx.base}/alerts/rules/${encodeURIComponent(r.id)}`, { method: 'DELETE' }); toast(`Removed ${r.name}.`); await rules(clear(out), ctx); } catch (ex) { out.append(errorBox(ex)); }
  };
  out.append(table([
    { label: 'Rule', value: (r) => r.name },
    { label: 'Kind', value: (r) => r.kind },
    { label: 'Settings', value: (r) => h('code', {}, JSON.stringify(r.params)) },
    { label: 'Last run', value: (r) => (r.last_run_at ? fmtTime(r.last_run_at) : 'not yet') },
    { label: 'Firings', value: (r) => String(r.last_fired) },
    { label: 'Problem', value: (r) => r.last_error || '—' },
    ...(canEdit ? [{ label: '', value: (r) => h('button', { type: 'button', class: 'secondary', onclick: remove(r) }, 'Remove') }] : []),
  ], rows, { caption: 'Rules', empty: 'No alert rules yet.' }));
  if (!canEdit) return;
  const name = h('input', { type: 'text', maxlength: 100, required: true });
  const kind = select(KINDS.map((k) => [k, k]), 'budget');
  const amount = h('input', { type: 'number', min: 0, step: 'any' });
  const percent = h('input', { type: 'number', min: 0, step: 'any' });
  const days = h('input', { type: 'number', min: 0 });
  const scope = h('input', { type: 'text', placeholder: 'account=123456789012 / CreateUser,aws.iam' });
  const forecast = h('input', { type: 'checkbox' });
  const err = h('div');
  const form = h('form', { class: 'panel', 'aria-label': 'Add a rule' },
    h('h3', {}, 'Add a rule'),
    field('Name', name), field('Kind', kind), field('Amount (USD)', amount, { hint: 'budget: the monthly amount; anomaly, savings: the smallest amount' }),
    field('Percent', percent, { hint: 'budget: share that fires (100); utilization: fire below (80)' }), field('Days', days),
    field('Scope or events', scope, { hint: 'budget: a cost filter; event: names or sources' }), field('Forecast fires too', forecast),
    err, h('button', {}, 'Add rule'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api(`${ctx.base}/alerts/rules`, { method: 'POST', body: { name: name.value, kind: kind.value,
        params: params(kind.value, { amount: amount.value, percent: percent.value, days: days.value, scope: scope.value, forecast: forecast.checked }) } });
      toast('Rule added.');
      await rules(clear(out), ctx);
    } catch (ex) { clear(err).append(errorBox(ex)); }
  });
  const evalOut = h('div');
  const evaluate = async (dry) => {
    try {
      const rep = await api(`${ctx.base}/alerts/evaluate?dry_run=${dry}`, { method: 'POST' });
      clear(evalOut).append(table([
        { label: 'Rule', value: (r) => r.rule },
        { label: 'Fired', value: (r) => (r.error ? `not evaluated: ${r.error}` : r.firings.map((f) => `${f.deduplicated ? '(sent before) ' : ''}${f.subject}`).join('\n') || '—') },
      ], rep.rules, { caption: dry ? 'Dry run: nothing sent' : `${rep.fired} new firing(s) queued` }));
    } catch (ex) { clear(evalOut).append(errorBox(ex)); }
  };
  out.append(form, h('p', {}, h('button', { type: 'button', class: 'secondary', onclick: () => evaluate(true) }, 'Dry run'), ' ',
    h('button', { type: 'button', onclick: () => evaluate(false) }, 'Evaluate now')), evalOut);
}

async function channels(out, ctx) {
  if (!ctx.can('GET', '/api/v1/tenants/{tenant}/alerts/channels')) {
    out.append(h('p', { class: 'muted' }, 'Channels are managed by the tenant\'s admins.'));
    return;
  }
  const rows = await api(`${ctx.base}/alerts/channels`);
  const act = (c, path, body, done) => async () => {
    try { await api(`${ctx.base}/alerts/channels/${encodeURIComponent(c.id)}${path}`, { method: path ? 'POST' : 'DELETE', body }); toast(done); await channels(clear(out), ctx); } catch (ex) { out.append(errorBox(ex)); }
  };
  out.append(table([
    { label: 'Channel', value: (c) => c.name },
    { label: 'Kind', value: (c) => c.kind },
    { label: 'Target', value: (c) => c.target },
    { label: 'Topics', value: (c) => c.topics.join(', ') },
    { label: 'Snoozed until', value: (c) => (c.snoozed_until ? fmtTime(c.snoozed_until) : '—') },
    { label: '', value: (c) => h('span', {},
      h('button', { type: 'button', class: 'secondary', onclick: act(c, '/test', undefined, `Test message delivered to ${c.name}.`) }, 'Test'), ' ',
      h('button', { type: 'button', class: 'secondary', onclick: act(c, '/snooze', { for: c.snoozed_until ? '0s' : '24h' }, c.snoozed_until ? 'Snooze ended.' : 'Snoozed for 24 hours.') }, c.snoozed_until ? 'Unsnooze' : 'Snooze 24h'), ' ',
      h('button', { type: 'button', class: 'secondary', onclick: act(c, '', undefined, `Removed ${c.name}.`) }, 'Remove')) },
  ], rows, { caption: 'Channels', empty: 'No channels: alerts are recorded but reach no one.' }));
  const name = h('input', { type: 'text', maxlength: 100, required: true });
  const kind = select([['webhook', 'webhook (HMAC-signed JSON)'], ['slack', 'Slack-compatible webhook'], ['email', 'email (SMTP)']], 'webhook');
  const url = h('input', { type: 'url', placeholder: 'https://...' });
  const topics = h('input', { type: 'text', placeholder: 'alert.* (default: everything)' });
  const smtp = h('input', { type: 'text', placeholder: 'smtp.example.com:587' });
  const from = h('input', { type: 'email' });
  const to = h('input', { type: 'text', placeholder: 'a@example.com, b@example.com' });
  const user = h('input', { type: 'text', autocomplete: 'off' });
  const pass = h('input', { type: 'password', autocomplete: 'new-password' });
  const err = h('div');
  const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
  const form = h('form', { class: 'panel', 'aria-label': 'Add a channel' },
    h('h3', {}, 'Add a channel'), field('Name', name), field('Kind', kind), field('URL', url, { wide: true }), field('Topics', topics),
    field('SMTP server', smtp), field('From', from), field('To', to), field('SMTP user', user), field('SMTP password', pass), err, h('button', {}, 'Add channel'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { name: name.value, kind: kind.value, topics: list(topics.value) };
    if (kind.value === 'email') Object.assign(body, { smtp_addr: smtp.value, from: from.value, to: list(to.value), username: user.value, password: pass.value });
    else body.url = url.value;
    try {
      const added = await api(`${ctx.base}/alerts/channels`, { method: 'POST', body });
      await channels(clear(out), ctx);
      if (added.secret) out.prepend(h('p', { class: 'panel', role: 'status' }, 'Signing secret (shown once; the receiver checks X-Crossbill-Signature with it): ', h('code', {}, added.secret)));
    } catch (ex) { clear(err).append(errorBox(ex)); }
  });
  out.append(form);
}

async function deliveries(out, ctx) {
  const rows = await api(`${ctx.base}/alerts/deliveries?limit=200`);
  out.append(table([
    { label: 'When', value: (d) => fmtTime(d.created_at) },
    { label: 'Channel', value: (d) => d.channel },
    { label: 'Topic', value: (d) => d.topic },
    { label: 'Subject', value: (d) => d.subject },
    { label: 'Status', value: (d) => badge(d.status) },
    { label: 'Attempts', value: (d) => String(d.attempts) },
    { label: 'Last error', value: (d) => d.last_error || '—' },
  ], rows, { caption: 'Delivery log', empty: 'No message sent yet.' }));
}

export default async function alertsPage(main, ctx) {
  main.append(h('h1', {}, 'Alerts'),
    h('p', { class: 'muted' }, 'Rules watch budgets, anomalies, commitments, savings, access findings and real-time events; each firing is sent once to the channels subscribed to its topic, retried with backoff.'));
  for (const [title, fn] of [['Rules', rules], ['Channels', channels], ['Deliveries', deliveries]]) {
    const out = h('section', { 'aria-label': title });
    main.append(h('h2', {}, title), out);
    try { await fn(out, ctx); } catch (ex) { out.append(errorBox(ex)); }
  }
}
