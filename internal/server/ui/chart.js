// SVG charts drawn by hand: stacked bars and lines, with axes, grid lines,
// a legend and per-mark tooltips (<title>), sized by viewBox so that they
// scale with the page.
import { h } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';

// Okabe-Ito, then a few more distinguishable hues; "others" is grey.
export const palette = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000', '#8C564B', '#7F7FFF', '#2CA02C', '#BCBD22'];
export const colorFor = (name, i) => (name === 'others' ? '#9aa0a6' : palette[i % palette.length]);

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// niceTicks picks about n round tick values from 0 to at least max.
export function niceTicks(max, n = 5) {
  if (!(max > 0)) return [0, 1];
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((v) => v >= raw);
  const ticks = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const W = 960, H = 360, M = { top: 14, right: 16, bottom: 56, left: 78 };

function frame(title, desc) {
  const id = `c${Math.random().toString(36).slice(2, 8)}`;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': `${id}-t ${id}-d` },
    s('title', { id: `${id}-t` }, title), s('desc', { id: `${id}-d` }, desc || title));
  return svg;
}

function axes(svg, labels, ticks, yFormat, yLabel) {
  const iw = W - M.left - M.right, ih = H - M.top - M.bottom;
  const top = ticks[ticks.length - 1] || 1;
  const y = (v) => M.top + ih - (v / top) * ih;
  const grid = s('g', { class: 'grid' });
  const yAxis = s('g', { class: 'axis' });
  for (const t of ticks) {
    grid.append(s('line', { x1: M.left, x2: W - M.right, y1: y(t), y2: y(t) }));
    yAxis.append(s('text', { x: M.left - 8, y: y(t) + 4, 'text-anchor': 'end' }, yFormat(t)));
  }
  yAxis.append(s('line', { x1: M.left, x2: M.left, y1: M.top, y2: M.top + ih }));
  if (yLabel) yAxis.append(s('text', { x: 14, y: M.top + ih / 2, transform: `rotate(-90 14 ${M.top + ih / 2})`, 'text-anchor': 'middle' }, yLabel));
  const xAxis = s('g', { class: 'axis' }, s('line', { x1: M.left, x2: W - M.right, y1: M.top + ih, y2: M.top + ih }));
  const band = iw / Math.max(labels.length, 1);
  const every = Math.max(1, Math.ceil(labels.length / 12));
  labels.forEach((l, i) => {
    if (i % every !== 0) return;
    const x = M.left + band * (i + 0.5);
    xAxis.append(s('line', { x1: x, x2: x, y1: M.top + ih, y2: M.top + ih + 5 }));
    xAxis.append(s('text', { x, y: M.top + ih + 20, 'text-anchor': 'middle' }, l));
  });
  svg.append(grid, yAxis, xAxis);
  return { y, band, ih, iw };
}

function legend(names) {
  return h('ul', { class: 'legend', 'aria-label': 'Legend' }, names.map((n, i) => {
    const sw = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    sw.style.background = colorFor(n, i);
    return h('li', {}, sw, n);
  }));
}

// stackedBars draws one bar per period, stacked by series.
export function stackedBars({ labels, series, title, yFormat = String, yLabel }) {
  const totals = labels.map((_, i) => series.reduce((a, sr) => a + Math.max(0, sr.values[i] || 0), 0));
  const ticks = niceTicks(Math.max(...totals, 0));
  const svg = frame(title, `${title}: ${series.length} series over ${labels.length} periods`);
  const { y, band } = axes(svg, labels, ticks, yFormat, yLabel);
  const bw = Math.max(1, band * 0.78);
  const bars = s('g', { class: 'bars' });
  labels.forEach((label, i) => {
    let acc = 0;
    series.forEach((sr, k) => {
      const v = Math.max(0, sr.values[i] || 0);
      if (v <= 0) return;
      const y0 = y(acc), y1 = y(acc + v);
      acc += v;
      bars.append(s('rect', { x: M.left + band * i + (band - bw) / 2, y: y1, width: bw, height: Math.max(0.5, y0 - y1), fill: colorFor(sr.name, k) },
        s('title', {}, `${label} · ${sr.name}: ${yFormat(v)}`)));
    });
  });
  svg.append(bars);
  return h('figure', { class: 'figure' }, svg, legend(series.map((sr) => sr.name)));
}

// lines draws one line per series; refs are dashed horizontal lines.
export function lines({ labels, series, title, yFormat = String, yLabel, yMax, refs = [] }) {
  const max = yMax !== undefined ? yMax : Math.max(0, ...series.flatMap((sr) => sr.values.filter((v) => v !== null && v !== undefined)));
  const ticks = niceTicks(max);
  const svg = frame(title, `${title}: ${series.length} series over ${labels.length} periods`);
  const { y, band } = axes(svg, labels, ticks, yFormat, yLabel);
  const x = (i) => M.left + band * (i + 0.5);
  for (const r of refs) {
    svg.append(s('line', { x1: M.left, x2: W - M.right, y1: y(r.value), y2: y(r.value), stroke: '#57606a', 'stroke-dasharray': '6 4' }),
      s('text', { x: W - M.right - 4, y: y(r.value) - 5, 'text-anchor': 'end' }, r.label));
  }
  series.forEach((sr, k) => {
    const pts = sr.values.map((v, i) => (v === null || v === undefined ? null : [x(i), y(v)])).filter(Boolean);
    const color = colorFor(sr.name, k);
    svg.append(s('polyline', { points: pts.map((p) => p.join(',')).join(' '), fill: 'none', stroke: color, 'stroke-width': 2.5 }));
    const g = s('g', {});
    sr.values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      g.append(s('circle', { cx: x(i), cy: y(v), r: labels.length > 60 ? 1.5 : 3, fill: color }, s('title', {}, `${labels[i]} · ${sr.name}: ${yFormat(v)}`)));
    });
    svg.append(g);
  });
  return h('figure', { class: 'figure' }, svg, legend(series.map((sr) => sr.name)));
}
