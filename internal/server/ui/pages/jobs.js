// Background jobs: status, progress, attempts, last error and next run;
// refreshed every few seconds while the page is open.
import { api } from '../api.js';
import { h, clear, table, badge, fmtTime, errorBox } from '../dom.js';

export default async function jobs(main, ctx) {
  const conn = ctx.args[0] || '';
  main.append(h('h1', {}, conn ? `Jobs of ${conn}` : 'Jobs'));
  const body = h('div', { 'aria-live': 'polite' });
  main.append(body);
  const load = async () => {
    try {
      const js = await api(`${ctx.base}/jobs${conn ? `?connection=${encodeURIComponent(conn)}` : ''}`);
      clear(body).append(table([
        { label: 'Job', value: (j) => h('code', {}, j.id) },
        { label: 'Kind', value: (j) => j.kind },
        { label: 'Connection', value: (j) => (j.connection_id ? h('a', { href: `#/connections/${encodeURIComponent(j.connection_id)}` }, j.connection_id) : '—') },
        { label: 'Status', value: (j) => badge(j.status) },
        { label: 'Progress', value: (j) => h('span', {}, h('progress', { max: 1, value: j.progress, 'aria-label': `${Math.round(j.progress * 100)}%` }), ` ${Math.round(j.progress * 100)}% `, h('span', { class: 'muted' }, j.message || '')) },
        { label: 'Attempts', value: (j) => `${j.attempts}/${j.max_attempts}`, num: true },
        { label: 'Replica', value: (j) => j.replica || '—' },
        { label: 'Last error', value: (j) => j.last_error || '—' },
        { label: 'Next run', value: (j) => (['queued', 'retrying'].includes(j.status) ? fmtTime(j.next_run_at) : '—') },
        { label: 'Finished', value: (j) => fmtTime(j.finished_at) },
      ], js, { empty: 'No jobs yet.' }));
    } catch (err) { clear(body).append(errorBox(err)); }
  };
  await load();
  const timer = setInterval(load, 3000);
  return { stop: () => clearInterval(timer) };
}
