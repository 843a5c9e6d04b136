// Just-in-time access: request a grant under one of the tenant's
// policies, follow the leases (time left on the active ones), decide or
// revoke them as the role allows, and read a lease's audit trail. The
// approvals inbox shows the same requests beside remediations and
// purchases.
import { api } from '../api.js';
import { h, clear, table, badge, fmtTime, field, select, toast, errorBox } from '../dom.js';

// mine: the signed-in person asked for it (they never decide it; the API refuses too).
const mine = (ctx, email) => { const p = (ctx.me || {}).person; return !!(p && email && p.email && p.email.toLowerCase() === String(email).toLowerCase()); };
const P = '/api/v1/tenants/{tenant}/access';

function targetText(t) {
  if (!t) return '—';
  return t.kind === 'iam-group' ? `group ${t.group} in ${t.account}` : `${t.permission_set_name || t.permission_set} in ${t.account}`;
}

function left(l, now) {
  if (l.state !== 'active' || !l.expires_at) return '—';
  const s = Math.max(0, Math.round((new Date(l.expires_at) - now) / 1000));
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min ${s % 60} s`;
}

async function detail(main, ctx, id) {
  const base = `${ctx.base}/access`;
  const [l, trail] = await Promise.all([api(`${base}/leases/${encodeURIComponent(id)}`), api(`${base}/audit?lease=${encodeURIComponent(id)}`)]);
  main.append(h('p', {}, h('a', { href: '#/jit' }, '← Just-in-time access')),
    h('h1', {}, `Lease ${l.id}`),
    h('p', {}, badge(l.state), ` ${targetText(l.target)} for ${l.requester} (${l.principal_name}), policy ${l.policy}`),
    h('p', {}, `Reason: ${l.reason}`),
    l.expires_at ? h('p', {}, `Expires ${fmtTime(l.expires_at)} · ${left(l, new Date())} left`) : '',
    l.last_error ? h('p', { class: 'error' }, `Retrying (${l.attempts}): ${l.last_error}`) : '',
    table([
      { label: 'When', value: (e) => fmtTime(e.at) },
      { label: 'Action', value: (e) => e.action },
      { label: 'By', value: (e) => e.person_email || e.actor },
      { label: 'Detail', value: (e) => JSON.stringify(e.detail) },
    ], trail.lines, { caption: 'Audit trail (hash-chained)', empty: 'No line yet.' }));
}

export default async function jit(main, ctx) {
  if (ctx.args[0]) return detail(main, ctx, ctx.args[0]);
  const base = `${ctx.base}/access`;
  main.append(h('h1', {}, 'Just-in-time access'),
    h('p', { class: 'muted' }, 'Time-bound grants of permission sets tagged crossbill-jit=allowed and of IAM groups under /crossbill-jit/, approved under the tenant’s policies and always removed at expiry.'));
  const policies = (await api(`${base}/policies`)).policies || [];
  const formBox = h('div');
  const list = h('div');
  main.append(formBox, list);

  if (ctx.can('POST', `${P}/leases`) && policies.length) {
    const pol = select(policies.map((p) => p.name));
    const kind = select([['permission-set', 'Permission set'], ['iam-group', 'IAM group']]);
    const target = h('input', { required: true, list: 'jit-targets', placeholder: 'Ops or arn:aws:sso:::permissionSet/…' });
    const targets = h('datalist', { id: 'jit-targets' });
    const account = h('input', { required: true, pattern: '[0-9]{12}', inputmode: 'numeric', placeholder: '111122223333' });
    const duration = h('input', { required: true, value: '1h', pattern: '[0-9hms.]+' });
    const reason = h('input', { required: true, minlength: 3, maxlength: 500 });
    const err = h('div');
    const fill = () => {
      const p = policies.find((x) => x.name === pol.value) || { targets: [] };
      clear(targets).append(p.targets.map((t) => h('option', { value: t.permission_set || t.group })));
    };
    pol.addEventListener('change', fill);
    fill();
    const form = h('form', { class: 'panel', 'aria-labelledby': 'jit-req' },
      h('h2', { id: 'jit-req' }, 'Request access'),
      h('div', { class: 'form' }, field('Policy', pol), field('Kind', kind), field('Permission set or group', target), targets, field('Account', account),
        field('Duration', duration, { hint: 'e.g. 30m, 2h' }), field('Reason', reason, { wide: true })),
      err, h('button', {}, 'Request'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const spec = { account: account.value.trim() };
      spec[kind.value === 'iam-group' ? 'group' : 'permission_set'] = target.value.trim();
      try {
        const l = await api(`${base}/leases`, { method: 'POST', body: { policy: pol.value, target: spec, duration: duration.value.trim(), reason: reason.value } });
        clear(err);
        toast(`Lease ${l.id}: ${l.state}`);
        await render();
      } catch (ex) { clear(err).append(errorBox(ex)); }
    });
    formBox.append(form);
  } else if (!policies.length) {
    formBox.append(h('p', { class: 'muted' }, 'No policy yet: an admin sets one with ', h('code', {}, 'crossbill access policy set'), ' or PUT …/access/policies/NAME.'));
  }

  let leases = [];
  const act = (l, verb) => async () => {
    const reason = verb === 'approve' ? '' : window.prompt(`Reason to ${verb} ${l.id}`) || '';
    if (verb !== 'approve' && !reason) return;
    try {
      const r = await api(`${base}/leases/${encodeURIComponent(l.id)}/${verb}`, { method: 'POST', body: { reason } });
      toast(`Lease ${r.id}: ${r.state}`);
      await render();
    } catch (ex) { toast(ex.message); }
  };
  const draw = () => {
    const now = new Date();
    clear(list).append(table([
      { label: 'Lease', value: (l) => h('a', { href: `#/jit/${encodeURIComponent(l.id)}` }, l.id) },
      { label: 'State', value: (l) => badge(l.state) },
      { label: 'Requester', value: (l) => l.requester },
      { label: 'Target', value: (l) => targetText(l.target) },
      { label: 'Time left', value: (l) => left(l, now) },
      { label: '', value: (l) => h('span', {},
        l.state === 'requested' && !mine(ctx, l.requester) && ctx.can('POST', `${P}/leases/{lease}/approve`) ? [h('button', { class: 'secondary', onclick: act(l, 'approve') }, 'Approve'), ' ',
          h('button', { class: 'secondary', onclick: act(l, 'deny') }, 'Deny'), ' '] : '',
        ['requested', 'approved', 'granting', 'grant-failed', 'active'].includes(l.state) ? h('button', { class: 'secondary', onclick: act(l, 'revoke') }, 'Revoke') : '') },
    ], leases, { caption: 'Leases', empty: 'No lease yet.' }));
  };
  async function render() {
    try {
      leases = (await api(`${base}/leases`)).leases || [];
      draw();
    } catch (ex) { clear(list).append(errorBox(ex)); }
  }
  await render();
  const tick = setInterval(draw, 1000);
  const refresh = setInterval(render, 15000);
  return { stop: () => { clearInterval(tick); clearInterval(refresh); } };
}
