// Remediation: plans (each a dry run first), their items and durable
// steps, and the off-hours schedules. A plan runs once a person other than
// its requester approved it on the Approvals page; Run and Undo show only
// to roles the API allows them.
import { api } from '../api.js';
import { h, table, badge, fmtTime, field, select, errorBox, toast, clear } from '../dom.js';

const STATES = [['', 'every state'], ['awaiting-approval', 'awaiting approval'], ['approved', 'approved'], ['running', 'running'], ['done', 'done'],
  ['failed', 'failed'], ['denied', 'denied'], ['blocked', 'blocked'], ['nothing-to-do', 'nothing to do'], ['undone', 'undone']];
const PLAN = '/api/v1/tenants/{tenant}/remediations/{remediation}';

const ready = (p) => p.items.filter((i) => i.status === 'ready' || i.status === 'done').length;
const stepLine = (s) => h('li', {}, h('code', {}, s.op), ` ${s.says}`, s.status ? [' ', badge(s.status)] : '',
  s.output && Object.keys(s.output).length ? h('small', { class: 'muted' }, ' ' + Object.entries(s.output).filter(([k]) => k !== 'previous_rules').map(([k, v]) => `${k}=${v}`).join(' ')) : '');

async function detail(main, ctx, id) {
  const p = await api(`${ctx.base}/remediations/${encodeURIComponent(id)}`);
  main.append(h('p', {}, h('a', { href: '#/remediation' }, '← Remediation')),
    h('h1', {}, `Plan ${p.id}`),
    h('p', {}, badge(p.state), ` through ${p.connection_id} · requested by ${p.requested_email || p.requested_by} at ${fmtTime(p.created_at)} · limit ${p.limits.max_resources} resources`,
      p.limits.max_percent ? ` and ${p.limits.max_percent}% of a type` : ''),
    p.reason ? h('p', { class: p.state === 'blocked' || p.state === 'failed' ? 'error' : 'muted' }, p.reason) : '',
    p.approval_id ? h('p', {}, 'Approval: ', h('a', { href: `#/approvals/${encodeURIComponent(p.approval_id)}` }, p.approval_id),
      ` (${p.approvals_required} needed from people other than the requester)`) : '');
  for (const it of p.items) {
    main.append(h('section', { class: 'panel', 'aria-label': `Item ${it.index}` },
      h('h2', {}, `#${it.index} ${it.target.action} ${it.resource_id} `, badge(it.status)),
      h('p', { class: 'muted' }, `${it.target.account_id} ${it.target.region}${it.state ? ' · state ' + it.state : ''}`),
      it.reason ? h('p', {}, it.reason) : '',
      it.fix ? h('p', {}, h('strong', {}, 'Fix: '), it.fix) : '',
      it.dry_run ? h('p', {}, h('strong', {}, 'Dry run: '), it.dry_run) : '',
      it.steps.length ? h('ol', {}, it.steps.map(stepLine)) : '',
      (it.undo || []).length ? [h('p', {}, h('strong', {}, 'Undo:')), h('ul', {}, it.undo.map(stepLine))] : (it.undo_note ? h('p', { class: 'muted' }, `Undo: ${it.undo_note}`) : ''),
      it.restore ? h('p', {}, h('strong', {}, 'Restore: '), it.restore) : ''));
  }
  const err = h('div');
  const act = (verb, label) => h('button', { type: 'button', onclick: async () => {
    try {
      await api(`${ctx.base}/remediations/${encodeURIComponent(id)}/${verb}`, { method: 'POST' });
      toast(`${label}: done.`);
      clear(main);
      await detail(main, ctx, id);
    } catch (ex) {
      clear(err).append(errorBox(ex));
    }
  } }, label);
  const buttons = [];
  if (['awaiting-approval', 'approved', 'running', 'failed'].includes(p.state) && ctx.can('POST', `${PLAN}/run`)) buttons.push(act('run', 'Run'));
  if (['done', 'failed'].includes(p.state) && p.items.some((i) => (i.undo || []).length && i.status === 'done') && ctx.can('POST', `${PLAN}/undo`)) buttons.push(act('undo', 'Undo'));
  if (buttons.length) main.append(h('div', { class: 'panel' }, buttons, err));
}

export default async function remediationPage(main, ctx) {
  if (ctx.args[0]) return detail(main, ctx, ctx.args[0]);
  main.append(h('h1', {}, 'Remediation'),
    h('p', { class: 'muted' }, 'Each plan is a dry run first; it runs only after a person other than its requester approves it, only on resources tagged crossbill-remediation=allowed. Plan with ',
      h('code', {}, 'crossbill remediate plan'), ' or POST .../remediations.'));
  const state = select(STATES, '');
  const out = h('div');
  const load = async () => {
    try {
      const q = state.value ? `?state=${encodeURIComponent(state.value)}` : '';
      const { plans } = await api(`${ctx.base}/remediations${q}`);
      clear(out).append(table([
        { label: 'Plan', value: (p) => h('a', { href: `#/remediation/${encodeURIComponent(p.id)}` }, p.id) },
        { label: 'State', value: (p) => badge(p.state) },
        { label: 'Actions', value: (p) => [...new Set(p.items.map((i) => i.target.action))].join(', ') },
        { label: 'Acting on', value: ready, num: true },
        { label: 'Items', value: (p) => p.items.length, num: true },
        { label: 'Requested by', value: (p) => p.requested_email || p.requested_by },
        { label: 'Created', value: (p) => fmtTime(p.created_at) },
      ], plans, { empty: 'No remediation plan yet.' }));
    } catch (ex) {
      clear(out).append(errorBox(ex));
    }
  };
  state.addEventListener('change', load);
  main.append(h('div', { class: 'filters' }, field('State', state)), out);
  await load();
  const sched = h('div');
  main.append(h('h2', {}, 'Off-hours schedules'), sched);
  try {
    const { schedules } = await api(`${ctx.base}/remediation-schedules`);
    sched.append(table([
      { label: 'Name', value: (v) => v.schedule.name },
      { label: 'Instances tagged', value: (v) => `${v.schedule.tag_key}=${v.schedule.tag_value}` },
      { label: 'Regions', value: (v) => v.schedule.regions.join(', ') },
      { label: 'Run', value: (v) => `${v.schedule.days.join(',')} ${v.schedule.start}–${v.schedule.stop} ${v.schedule.timezone}` },
      { label: 'Skip', value: (v) => (v.schedule.skip_dates || []).join(', ') || '—' },
      { label: 'Approval', value: (v) => [h('a', { href: `#/approvals/${encodeURIComponent(v.approval_id)}` }, v.approval_id), ' ', badge(v.approval_state)] },
      { label: 'Last asked', value: (v) => v.last_desired || '—' },
    ], schedules, { empty: 'No schedule. Create one with crossbill remediate schedule create.' }));
  } catch (ex) {
    sched.append(errorBox(ex));
  }
}
