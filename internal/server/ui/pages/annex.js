// The annex for the customer's security team: every action crossbill may
// call, what it can and cannot do, and the cost on the customer's bill.
import { api } from '../api.js';
import { h, clear, loading } from '../dom.js';

export default async function annex(main, ctx) {
  main.append(h('h1', {}, 'Permissions annex'));
  const mods = await api('/api/v1/onboarding/modules').catch(() => ({ modules: [] }));
  const boxes = mods.modules.map((m) => h('label', {}, h('input', { type: 'checkbox', value: m.name, checked: m.default }), ` ${m.name}`));
  const out = h('article', { class: 'md' });
  const form = h('form', { class: 'form', 'aria-label': 'Annex modules' }, h('fieldset', {}, h('legend', {}, 'Modules'), boxes), h('button', { type: 'submit' }, 'Show annex'));
  main.append(form, out);
  const run = async () => {
    const chosen = [...form.querySelectorAll('input:checked')].map((c) => c.value);
    const q = chosen.length ? `?modules=${encodeURIComponent(chosen.join(','))}` : '';
    const md = await loading(out, api(`/api/v1/annex${q}`, { asText: true }));
    renderMarkdown(out, md);
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); run().catch(() => {}); });
  await run().catch(() => {});
}

// renderMarkdown handles the annex's subset: headings, paragraphs, lists,
// tables, code spans and bold. Text is inserted as text, never as HTML.
export function renderMarkdown(el, md) {
  clear(el);
  const lines = md.split('\n');
  let i = 0;
  const inline = (s) => {
    const out = [];
    const re = /(`[^`]+`|\*\*[^*]+\*\*)/g;
    let last = 0, m;
    while ((m = re.exec(s))) {
      if (m.index > last) out.push(s.slice(last, m.index));
      out.push(m[0][0] === '`' ? h('code', {}, m[0].slice(1, -1)) : h('strong', {}, m[0].slice(2, -2)));
      last = m.index + m[0].length;
    }
    if (last < s.length) out.push(s.slice(last));
    return out;
  };
  const cells = (l) => l.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
  while (i < lines.length) {
    const l = lines[i];
    if (!l.trim()) { i++; continue; }
    const hd = /^(#{1,4})\s+(.*)$/.exec(l);
    if (hd) { el.append(h(`h${Math.min(hd[1].length + 1, 4)}`, {}, inline(hd[2]))); i++; continue; }
    if (l.trim().startsWith('|')) {
      const head = cells(l); i += 2;
      const rows = [];
      while (i < lines.length && lines[i].trim().startsWith('|')) rows.push(cells(lines[i++]));
      el.append(h('table', {}, h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, inline(c))))),
        h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, inline(c))))))));
      continue;
    }
    if (/^\s*([-*]|\d+\.)\s+/.test(l)) {
      const ordered = /^\s*\d+\./.test(l);
      const items = [];
      while (i < lines.length && /^\s*([-*]|\d+\.)\s+/.test(lines[i])) items.push(lines[i++].replace(/^\s*([-*]|\d+\.)\s+/, ''));
      el.append(h(ordered ? 'ol' : 'ul', {}, items.map((t) => h('li', {}, inline(t)))));
      continue;
    }
    if (l.startsWith('```')) {
      const buf = []; i++;
      while (i < lines.length && !lines[i].startsWith('```')) buf.push(lines[i++]);
      i++;
      el.append(h('pre', {}, buf.join('\n')));
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() && !/^(#|\||\s*[-*]\s|```)/.test(lines[i])) para.push(lines[i++]);
    el.append(h('p', {}, inline(para.join(' '))));
  }
}
