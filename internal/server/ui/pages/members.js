// The member accounts of a connected AWS Organization, on the connection
// page: each account's state and whether the members StackSet put a
// working crossbill role there, with the fix when it did not.
import { api } from '../api.js';
import { h, clear, table, badge, fmtTime, loading } from '../dom.js';

function summaryText(s) {
  const parts = [`${s.verified} of ${s.members} members verified`];
  if (s.failed) parts.push(`${s.failed} failed`);
  if (s.pending) parts.push(`${s.pending} not checked`);
  if (s.skipped) parts.push(`${s.skipped} skipped (not ACTIVE)`);
  if (s.conflict) parts.push(`${s.conflict} owned by another tenant`);
  if (s.gone) parts.push(`${s.gone} gone from the organization`);
  return parts.join(', ');
}

function render(el, res) {
  clear(el).append(
    h('p', {}, summaryText(res.summary)),
    table([
      { label: 'Account', value: (m) => h('code', {}, m.account_id) },
      { label: 'Name', value: (m) => m.name || '—' },
      { label: 'State', value: (m) => (m.gone_at ? h('span', { class: 'muted' }, `left the organization ${fmtTime(m.gone_at)}`) : m.state || '—') },
      { label: 'Role', value: (m) => badge(m.status) },
      { label: 'Class', value: (m) => m.class || '—' },
      { label: 'Checked', value: (m) => fmtTime(m.checked_at) },
      { label: 'Fix', value: (m) => (m.status === 'verified' ? '—' : m.fix || m.message || '—') },
    ], res.members || [], { caption: 'Member accounts', empty: 'No member accounts recorded yet: list and verify them.' }));
}

// members appends the section to main for connection c (which has the org
// module), reading from and refreshing through base.
export default async function members(main, ctx, base, c) {
  const results = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'button', disabled: !ctx.canWrite || !c.role_arn }, 'List and verify member accounts');
  main.append(h('section', { 'aria-labelledby': 'members-h' },
    h('h2', { id: 'members-h' }, '4. Organization member accounts'),
    h('p', { class: 'muted' }, 'Deploy the members stack (a StackSet) in the management account; then check that it put the role into every member account.'),
    button, results));
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      render(results, await loading(results, api(`${base}/members`, { method: 'POST', body: { verify: true } })));
    } catch { /* shown by loading */ } finally { button.disabled = false; }
  });
  try {
    render(results, await loading(results, api(`${base}/members`)));
  } catch { /* shown by loading */ }
}
