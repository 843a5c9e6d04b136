// Approvals: the one inbox for every write crossbill would make in a
// customer's account on a person's say-so (JIT access grants,
// remediations, commitment purchases). Approvers decide here; the plan
// they approve is shown as it was requested.
import { api } from '../api.js';
import { h, table, badge, fmtTime, field, select, errorBox, toast, clear } from '../dom.js';

const KINDS = [['', 'every kind'], ['access-grant', 'access grants'], ['remediation', 'remediations'], ['purchase', 'purchases']];
const STATES = [['pending', 'pending'], ['', 'every state'], ['approved', 'approved'], ['denied', 'denied'], ['expired', 'expired'], ['cancelled', 'cancelled']];

const requester = (a) => a.requested_person || a.requested_by;
const approvals = (a) => `${(a.decisions || []).filter((d) => d.approve).length}/${a.required}`;

async function detail(main, ctx, id) {
  const a = await api(`${ctx.base}/approvals/${encodeURIComponent(id)}`);
  main.append(h('p', {}, h('a', { href: '#/approvals' }, '← Approvals')),
    h('h1', {}, a.summary || a.subject),
    h('p', {}, badge(a.state), ` ${a.kind} for ${a.subject} · requested by ${requester(a)} at ${fmtTime(a.created_at)} · expires ${fmtTime(a.expires_at)} · ${approvals(a)} approvals`),
    a.approvers && a.approvers.length ? h('p', { class: 'muted' }, `Only ${a.approvers.join(', ')} may decide.`) : '',
    a.auto_approved ? h('p', {}, `Approved by policy: ${a.auto_approved}`) : '',
    h('h2', {}, 'What is approved'),
    h('pre', { class: 'plan' }, JSON.stringify(a.detail, null, 2)),
    table([
      { label: 'When', value: (d) => fmtTime(d.at) },
      { label: 'Person', value: (d) => d.email || d.by },
      { label: 'Decision', value: (d) => badge(d.approve ? 'approved' : 'denied') },
      { label: 'Reason', value: (d) => d.reason || '—' },
    ], a.decisions, { caption: 'Decisions', empty: 'No decision yet.' }));
  const me = (ctx.me && ctx.me.person) || {};
  if (me.email && a.requested_person && me.email.toLowerCase() === a.requested_person.toLowerCase()) {
    main.append(h('p', { class: 'muted' }, 'You asked for this: another person decides it.'));
    return;
  }
  if (a.state !== 'pending' || !ctx.can('POST', '/api/v1/tenants/{tenant}/approvals/{approval}/approve')) return;
  const reason = h('input', { type: 'text', maxlength: 1000 });
  const err = h('div');
  const decide = (verb) => async (e) => {
    e.preventDefault();
    try {
      await api(`${ctx.base}/approvals/${encodeURIComponent(id)}/${verb}`, { method: 'POST', body: { reason: reason.value } });
      toast(verb === 'approve' ? 'Approved.' : 'Denied.');
      clear(main);
      await detail(main, ctx, id);
    } catch (ex) {
      clear(err).append(errorBox(ex));
    }
  };
  main.append(h('form', { class: 'panel', 'aria-label': 'Decide' },
    field('Reason (required to deny; the requester sees it)', reason, { wide: true }), err,
    h('button', { type: 'button', onclick: decide('approve') }, 'Approve'), ' ',
    h('button', { type: 'button', class: 'secondary', onclick: decide('deny') }, 'Deny')));
}

export default async function approvalsPage(main, ctx) {
  if (ctx.args[0]) return detail(main, ctx, ctx.args[0]);
  main.append(h('h1', {}, 'Approvals'),
    h('p', { class: 'muted' }, 'Access grants, remediations and purchases wait here for a person other than the requester. Every decision is in the audit log.'));
  const kind = select(KINDS, '');
  const state = select(STATES, 'pending');
  const out = h('div');
  const load = async () => {
    const q = new URLSearchParams();
    if (kind.value) q.set('kind', kind.value);
    if (state.value) q.set('state', state.value);
    try {
      const rows = await api(`${ctx.base}/approvals?${q}`);
      clear(out).append(table([
        { label: 'Request', value: (a) => h('a', { href: `#/approvals/${encodeURIComponent(a.id)}` }, a.summary || a.subject) },
        { label: 'Kind', value: (a) => a.kind },
        { label: 'State', value: (a) => badge(a.state) },
        { label: 'Requested by', value: requester },
        { label: 'Approvals', value: approvals },
        { label: 'Expires', value: (a) => fmtTime(a.expires_at) },
      ], rows, { empty: 'Nothing waits for a decision.' }));
    } catch (ex) {
      clear(out).append(errorBox(ex));
    }
  };
  kind.addEventListener('change', load);
  state.addEventListener('change', load);
  main.append(h('div', { class: 'filters' }, field('Kind', kind), field('State', state)), out);
  await load();
}
