// Access review: upload a CloudFormation template or IAM policy and read
// the summary and findings; reviews already kept are listed.
import { api } from '../api.js';
import { h, clear, field, table, badge, fmtTime, loading, errorBox } from '../dom.js';

export default async function review(main, ctx) {
  if (ctx.args[0]) return show(main, ctx, ctx.args[0]);
  main.append(h('h1', {}, 'Access review'),
    h('p', {}, 'Upload a vendor’s CloudFormation template (YAML or JSON) or IAM policy to see what it lets them do.'));
  const file = h('input', { type: 'file', accept: '.yaml,.yml,.json,.template,.txt' });
  const text = h('textarea', { rows: 8, placeholder: '{"Version": "2012-10-17", "Statement": [...]}' });
  const name = h('input', { type: 'text', placeholder: 'policy.json' });
  const err = h('div');
  const form = h('form', { class: 'panel', 'aria-label': 'Upload for review' },
    h('div', { class: 'form' }, field('Template or policy file', file), field('Name', name)),
    field('…or paste it here', text, { wide: true }),
    err, h('p', {}, h('button', { type: 'submit', disabled: !ctx.canWrite }, 'Review')));
  main.append(form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(err);
    let body = text.value, n = name.value.trim();
    if (file.files.length) { body = await file.files[0].text(); n = n || file.files[0].name; }
    if (!body.trim()) { err.append(errorBox(new Error('Choose a file or paste a document first.'))); return; }
    try {
      const rv = await api(`${ctx.base}/reviews?name=${encodeURIComponent(n || 'pasted.json')}`, { method: 'POST', body, contentType: 'text/plain' });
      location.hash = `#/review/${encodeURIComponent(rv.id)}`;
    } catch (ex) { err.append(errorBox(ex)); }
  });
  const list = h('section', { 'aria-labelledby': 'kept-h' }, h('h2', { id: 'kept-h' }, 'Reviews'));
  main.append(list);
  const body = h('div');
  list.append(body);
  const rs = await loading(body, api(`${ctx.base}/reviews`));
  body.append(table([
    { label: 'Document', value: (r) => h('a', { href: `#/review/${encodeURIComponent(r.id)}` }, r.name) },
    { label: 'Reviewed', value: (r) => fmtTime(r.created_at) },
  ], rs, { empty: 'No review yet.' }));
}

const sevOrder = ['critical', 'high', 'medium', 'low', 'info'];

// approval: an approver accepts the review's findings, once, by name.
function approval(rv, ctx) {
  const box = h('section', { class: 'panel', 'aria-labelledby': 'approval-h' }, h('h2', { id: 'approval-h' }, 'Approval'));
  const a = rv.acknowledged;
  if (a) {
    box.append(h('p', { 'data-testid': 'acknowledged' }, 'Findings acknowledged by ', h('strong', {}, a.person || a.actor), ` on ${fmtTime(a.at)}`, a.note ? ` — “${a.note}”` : '', '.'));
    return box;
  }
  if (!ctx.can('POST', '/api/v1/tenants/{tenant}/reviews/{review}/acknowledge')) {
    box.append(h('p', { class: 'muted' }, 'Not acknowledged yet. An approver of this tenant can acknowledge the findings.'));
    return box;
  }
  const note = h('input', { type: 'text', maxlength: 1000, placeholder: 'why the findings are accepted' });
  const err = h('div');
  const form = h('form', {}, h('div', { class: 'form' }, field('Note', note, { wide: true })), err,
    h('button', { type: 'submit' }, 'Acknowledge findings'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api(`${ctx.base}/reviews/${encodeURIComponent(rv.id)}/acknowledge`, { method: 'POST', body: { note: note.value.trim() } });
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (ex) { clear(err).append(errorBox(ex)); }
  });
  box.append(form);
  return box;
}

async function show(main, ctx, id) {
  const rv = await api(`${ctx.base}/reviews/${encodeURIComponent(id)}`);
  const rep = rv.result || {};
  const sum = rep.summary || {};
  main.append(h('p', {}, h('a', { href: '#/review' }, '← All reviews')),
    h('h1', {}, `Review of ${rv.name}`),
    h('div', { class: 'cards' },
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Highest severity'), h('div', { class: 'value', 'data-testid': 'highest' }, sum.highest ? badge(sum.highest, `sev-${sum.highest}`) : 'none')),
      sevOrder.filter((s) => (sum.by_severity || {})[s]).map((s) => h('div', { class: 'card' }, h('div', { class: 'muted' }, s), h('div', { class: 'value' }, String(sum.by_severity[s])))),
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Distinct actions'), h('div', { class: 'value' }, String(sum.actions || 0)))));
  main.append(approval(rv, ctx));
  if ((sum.top_risks || []).length) main.append(h('h2', {}, 'Highest risks'), h('ol', {}, sum.top_risks.map((r) => h('li', {}, r))));
  main.append(h('div', { class: 'cards' },
    h('section', { class: 'card' }, h('h2', {}, 'The vendor can'), h('ul', {}, (sum.can || []).map((c) => h('li', {}, c)))),
    h('section', { class: 'card' }, h('h2', {}, 'The vendor cannot'), h('ul', {}, (sum.cannot || []).map((c) => h('li', {}, c))))));
  main.append(h('h2', {}, 'Actions by access level'), table([
    { label: 'Level', value: (l) => l.level }, { label: 'Actions', value: (l) => String(l.actions), num: true },
  ], sum.by_level || []));
  main.append(h('h2', {}, 'By service category'), table([
    { label: 'Category', value: (c) => c.category }, { label: 'Grants', value: (c) => String(c.grants), num: true },
    { label: 'Actions', value: (c) => String(c.actions), num: true }, { label: 'Writes', value: (c) => String(c.writes), num: true },
  ], sum.by_category || []));
  main.append(h('h2', {}, `Findings (${(rep.findings || []).length})`), table([
    { label: 'Severity', value: (f) => badge(f.severity, `sev-${f.severity}`) },
    { label: 'Finding', value: (f) => h('div', {}, h('strong', {}, f.title), h('div', { class: 'muted' }, f.why)) },
    { label: 'Where', value: (f) => f.identity || '—' },
    { label: 'Actions', value: (f) => (f.actions || []).slice(0, 8).join(', ') + ((f.actions || []).length > 8 ? ' …' : '') },
    { label: 'Scoped', value: (f) => (f.scoped ? 'yes' : 'no') },
  ], rep.findings || [], { empty: 'No findings.' }));
  if (rv.source) main.append(h('details', {}, h('summary', {}, 'Document reviewed'), h('pre', {}, rv.source)));
  if (!rep.summary) main.append(errorBox(new Error('This review has no summary.')));
}
