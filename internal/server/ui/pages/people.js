// People: your own page (roles and recent actions) and, for a tenant's
// admins, the people with a role in the tenant and what each did there.
import { api } from '../api.js';
import { h, table, badge, fmtTime } from '../dom.js';

function actions(rows) {
  return table([
    { label: 'When', value: (e) => fmtTime(e.at) },
    { label: 'Action', value: (e) => e.action },
    { label: 'On', value: (e) => e.subject || '—' },
    { label: 'Person', value: (e) => e.person_email || e.actor },
  ], rows, { caption: 'Recent actions (audit log)', empty: 'No recorded action yet.' });
}

export async function me(main, ctx) {
  const m = await api('/api/v1/me');
  const p = m.person;
  main.append(h('h1', {}, p ? (p.name || p.email || p.subject) : `Token ${m.name || m.token_id}`));
  if (m.break_glass) main.append(h('p', { class: 'error', role: 'alert' }, 'Break-glass session: signed in with the operator token, not the identity provider. Every action is audited as break-glass.'));
  if (p) main.append(h('p', {}, `${p.email || ''} · subject ${p.subject} at ${p.issuer}`));
  main.append(table([
    { label: 'Tenant', value: (r) => r.tenant || 'every tenant' },
    { label: 'Role', value: (r) => badge(r.role) },
  ], m.roles, { caption: 'Roles' }));
  if (m.session_expires_at) main.append(h('p', { class: 'muted' }, `This session ends at the latest ${fmtTime(m.session_expires_at)}.`));
  main.append(actions(m.recent || []));
  void ctx;
}

export async function people(main, ctx) {
  if (ctx.args[0]) {
    const d = await api(`${ctx.base}/people/${encodeURIComponent(ctx.args[0])}`);
    main.append(h('p', {}, h('a', { href: '#/people' }, '← People')),
      h('h1', {}, d.person.name || d.person.email || d.person.subject),
      h('p', {}, `${d.person.email || ''} · role in ${ctx.tenant}: `, badge(d.person.role), ` · last sign-in ${fmtTime(d.person.last_login_at)}`),
      actions(d.recent || []));
    return;
  }
  main.append(h('h1', {}, `People of ${ctx.tenant}`),
    h('p', { class: 'muted' }, 'Roles come from the identity provider’s groups at each sign-in.'));
  const ps = await api(`${ctx.base}/people`);
  main.append(table([
    { label: 'Person', value: (p) => h('a', { href: `#/people/${encodeURIComponent(p.id)}` }, p.name || p.email || p.subject) },
    { label: 'Email', value: (p) => p.email || '—' },
    { label: 'Role', value: (p) => badge(p.role) },
    { label: 'Last sign-in', value: (p) => fmtTime(p.last_login_at) },
  ], ps, { empty: 'Nobody has signed in to this tenant yet.' }));
}
