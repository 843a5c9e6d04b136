// Small DOM helpers: elements are built with h(), never from HTML strings,
// so data from the API cannot inject markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) { while (el.firstChild) el.firstChild.remove(); return el; }

const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 2, signDisplay: 'negative' }); // no "-$0.00"
const moneyShort = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', notation: 'compact', maximumFractionDigits: 1, signDisplay: 'negative' });
export const fmtMoney = (v) => money.format(v || 0);
export const fmtMoneyShort = (v) => moneyShort.format(v || 0);
export const fmtPct = (v) => (v === undefined || v === null || Number.isNaN(v)) ? '—' : `${(v * 100).toFixed(1)}%`;
export const fmtNum = (v, d = 2) => (v === undefined || v === null) ? '—' : Number(v).toLocaleString('en-US', { maximumFractionDigits: d });
export const fmtDate = (s) => s ? String(s).slice(0, 10) : '—';
export const fmtTime = (s) => s ? new Date(s).toLocaleString() : '—';

export function badge(text, kind) {
  return h('span', { class: `badge ${kind ? kind : 'status-' + String(text).toLowerCase()}` }, text);
}

// table renders rows with columns [{label, value: row => node|string, num}].
export function table(columns, rows, { caption, empty = 'Nothing yet.' } = {}) {
  if (!rows || rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h('table', {},
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : '' }, c.label)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c) => h('td', { class: c.num ? 'num' : '' }, c.value(r)))))));
}

export function field(label, input, { wide = false, hint } = {}) {
  if (!input.id) input.id = `f-${Math.random().toString(36).slice(2, 9)}`;
  return h('div', { class: `field${wide ? ' wide' : ''}` }, h('label', { for: input.id }, label), input, hint ? h('small', { class: 'muted' }, hint) : null);
}

export function select(options, value) {
  return h('select', {}, options.map((o) => {
    const [v, label] = Array.isArray(o) ? o : [o, o];
    return h('option', { value: v, selected: v === value }, label);
  }));
}

export function toast(msg) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.textContent = ''; }, 4000);
}

export function errorBox(err) {
  const rid = err && err.requestId ? ` (request ${err.requestId})` : '';
  return h('p', { class: 'error', role: 'alert' }, `${err.message || err}${rid}`);
}

// loading replaces el's content with a message while p runs.
export async function loading(el, p) {
  clear(el).append(h('p', { class: 'muted' }, 'Loading…'));
  try {
    const v = await p;
    clear(el);
    return v;
  } catch (err) {
    clear(el).append(errorBox(err));
    throw err;
  }
}

// fmtBytes is a byte count in binary units, as Athena bills them.
export function fmtBytes(n) {
  let v = n || 0;
  let unit = 'B';
  for (const u of ['KB', 'MB', 'GB', 'TB']) {
    if (v < 1024) break;
    v /= 1024; unit = u;
  }
  return unit === 'B' ? `${v} B` : `${v.toFixed(1)} ${unit}`;
}

// fmtUSDSmall is a price that may be a fraction of a cent (Athena bills
// $5 per TB: a small query costs $0.00005).
export const fmtUSDSmall = (v) => (v > 0 && v < 0.01 ? `$${Number(v.toPrecision(2))}` : fmtMoney(v));

// athenaNote says that an answer came from Amazon Athena and what it cost
// (the answer's athena object), or nothing for the local engine.
export function athenaNote(cost, what = 'Answered') {
  if (!cost) return '';
  const q = `${cost.queries} ${cost.queries === 1 ? 'query' : 'queries'}`;
  return h('p', { class: 'muted', role: 'note', 'data-testid': 'athena-cost' },
    `${what} by Amazon Athena · ${q} · ${fmtBytes(cost.scanned_bytes)} scanned · ${fmtUSDSmall(cost.cost_usd)} (billed to the customer's AWS account)`);
}
