// Hand-written SVG charts: time series with brush-to-zoom, bars, packed bubbles, a time
// scatter and parallel coordinates. Each chart redraws itself when its container resizes.

import { s, h, showTip, hideTip } from './dom.js';
import { compact, num, clock, dateTime } from './fmt.js';

// ---------------------------------------------------------------- colours

/** The palette from the stylesheet (Okabe-Ito, adjusted for dark mode). */
export function palette() {
  const css = getComputedStyle(document.documentElement);
  const out = [];
  for (let i = 0; i < 8; i++) out.push(css.getPropertyValue(`--c${i}`).trim() || '#0072b2');
  return out;
}

/** The colour for "everything else". */
export const otherColour = () => getComputedStyle(document.documentElement).getPropertyValue('--other').trim() || '#999';

/** True when dark text reads better than white on colour c (#rrggbb). */
export function isLight(c) {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(c);
  if (!m) return false;
  const [r, g, b] = m.slice(1).map((x) => parseInt(x, 16) / 255);
  const lin = (v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b) > 0.33;
}

// ---------------------------------------------------------------- scales and ticks

function linear(d0, d1, r0, r1) {
  const span = d1 - d0 || 1;
  const f = (v) => r0 + ((v - d0) / span) * (r1 - r0);
  f.invert = (p) => d0 + ((p - r0) / (r1 - r0)) * span;
  return f;
}

/** Round tick values between lo and hi, about `count` of them. */
export function niceTicks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  let step = 10 ** Math.floor(Math.log10(raw));
  const err = raw / step;
  if (err >= 7.5) step *= 10;
  else if (err >= 3.5) step *= 5;
  else if (err >= 1.5) step *= 2;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

/** Rounds hi up to the next nice tick so the top gridline frames the data. */
function niceMax(hi) {
  if (!(hi > 0)) return 1;
  const t = niceTicks(0, hi, 5);
  const step = t.length > 1 ? t[1] - t[0] : hi;
  return Math.ceil(hi / step - 1e-9) * step;
}

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const TIME_STEPS = [SEC, 2 * SEC, 5 * SEC, 10 * SEC, 15 * SEC, 30 * SEC, MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 30 * DAY];

/** Time ticks (ms, UTC-aligned) with labels. */
export function timeTicks(lo, hi, count = 6) {
  const span = hi - lo;
  let step = TIME_STEPS.find((st) => span / st <= count);
  if (!step) step = Math.ceil(span / count / DAY) * DAY;
  if (span < SEC * count) step = Math.max(1, niceTicks(0, span, count)[1] || 1);
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) {
    const d = new Date(t);
    let label;
    if (step < SEC) label = clock(t, true);
    else if (step < MIN) label = clock(t);
    else if (step < DAY && !(d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && span > DAY)) label = clock(t).slice(0, 5);
    else label = dateTime(d).slice(5, 10);
    out.push({ t, label });
  }
  return out;
}

/** Parses an RFC 3339 time (any number of fraction digits) to ms since the epoch. */
export function parseTs(ts) {
  if (typeof ts === 'number') return ts;
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(ts || '');
  if (!m) return Date.parse(ts);
  const frac = m[2] ? m[2].slice(0, 4).padEnd(4, '0') : '';
  return Date.parse(m[1] + frac + m[3]);
}

// ---------------------------------------------------------------- plumbing

/** Draws with the container's width now and again whenever that width changes. */
function responsive(container, draw) {
  let last = -1;
  const run = () => {
    const w = Math.max(280, Math.floor(container.clientWidth || 600));
    if (Math.abs(w - last) < 2) return;
    last = w;
    hideTip();
    draw(w);
  };
  run();
  if (typeof ResizeObserver === 'function') {
    let frame = 0;
    const ro = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        if (!container.isConnected) ro.disconnect();
        else run();
      });
    });
    ro.observe(container);
  }
  return { redraw: () => { last = -1; run(); } };
}

/** The pointer position in the SVG's own units. */
function pointer(svg, ev) {
  const r = svg.getBoundingClientRect();
  const vb = svg.viewBox.baseVal;
  return [((ev.clientX - r.left) / r.width) * vb.width, ((ev.clientY - r.top) / r.height) * vb.height];
}

function axisLeft(g, y, ticks, x0, x1, fmt) {
  const grid = s('g', { class: 'grid' });
  const labels = s('g', { class: 'axis' });
  for (const t of ticks) {
    const py = y(t);
    grid.append(s('line', { x1: x0, x2: x1, y1: py, y2: py }));
    labels.append(s('text', { x: x0 - 6, y: py, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, fmt(t)));
  }
  g.append(grid, labels);
}

function axisBottom(g, ticks, x, y0, labelOf) {
  const a = s('g', { class: 'axis' });
  for (const t of ticks) {
    const px = x(t.t ?? t);
    a.append(s('line', { x1: px, x2: px, y1: y0, y2: y0 + 4 }));
    a.append(s('text', { x: px, y: y0 + 16, 'text-anchor': 'middle' }, labelOf ? labelOf(t) : t.label));
  }
  g.append(a);
}

function axisTitles(svg, { width, height, m, xLabel, yLabel }) {
  if (xLabel) svg.append(s('text', { class: 'axis-label', x: m.l + (width - m.l - m.r) / 2, y: height - 4, 'text-anchor': 'middle' }, xLabel));
  if (yLabel) svg.append(s('text', { class: 'axis-label', transform: `translate(13 ${m.t + (height - m.t - m.b) / 2}) rotate(-90)`, 'text-anchor': 'middle' }, yLabel));
}

/**
 * Adds brush-to-select on the time axis and hover to an SVG plot area. onBrush(t0, t1)
 * gets the selected range; onHover(px, py, ev) / onLeave for tooltips.
 */
function interact(svg, { m, width, height, x, onBrush, onHover, onLeave }) {
  const brush = s('rect', { class: 'brush', y: m.t, height: height - m.t - m.b, width: 0, visibility: 'hidden' });
  svg.append(brush);
  let start = null;
  const inside = (px, py) => px >= m.l && px <= width - m.r && py >= m.t && py <= height - m.b;
  const clampX = (px) => Math.min(width - m.r, Math.max(m.l, px));
  svg.addEventListener('mousedown', (ev) => {
    const [px, py] = pointer(svg, ev);
    if (!onBrush || ev.button !== 0 || !inside(px, py)) return;
    ev.preventDefault();
    start = px;
    brush.setAttribute('x', px);
    brush.setAttribute('width', 0);
    brush.setAttribute('visibility', 'visible');
  });
  svg.addEventListener('mousemove', (ev) => {
    const [px, py] = pointer(svg, ev);
    if (start !== null) {
      const a = Math.min(start, clampX(px));
      const b = Math.max(start, clampX(px));
      brush.setAttribute('x', a);
      brush.setAttribute('width', b - a);
      hideTip();
      return;
    }
    if (inside(px, py)) onHover && onHover(px, py, ev);
    else onLeave && onLeave();
  });
  const end = (ev) => {
    if (start === null) return;
    const [px] = pointer(svg, ev);
    const a = Math.min(start, clampX(px));
    const b = Math.max(start, clampX(px));
    start = null;
    brush.setAttribute('visibility', 'hidden');
    if (b - a >= 6) onBrush(x.invert(a), x.invert(b));
  };
  svg.addEventListener('mouseup', end);
  svg.addEventListener('mouseleave', (ev) => {
    if (start !== null) end(ev);
    onLeave && onLeave();
  });
}

// ---------------------------------------------------------------- time series

/**
 * An area chart over time.
 * opts: { times: [ms], series: [{name, values, colour?}], yLabel, xLabel, format(v),
 *         height, onZoom(from, to) (else the chart zooms itself), zoomed (bool) }
 * Returns the wrapper element.
 */
export function timeChart(opts) {
  const wrap = h('div', { class: 'chart' });
  const toolbar = h('div', { class: 'chart-toolbar' });
  const box = h('div');
  wrap.append(toolbar, box);
  const fmt = opts.format || num;
  let domain = null;
  const times = opts.times;
  const fullLo = times[0];
  const step = opts.stepMs || 0;
  const fullHi = step ? times[times.length - 1] + step : times.length > 1 ? times[times.length - 1] : times[0] + MIN;
  const bar = (r) => {
    toolbar.replaceChildren();
    toolbar.append(h('span', null, 'Drag across the chart to zoom in on a time range'));
    if (domain || opts.zoomed) {
      toolbar.append(h('button', { type: 'button', onclick: () => {
        if (opts.onReset) opts.onReset();
        else { domain = null; r.redraw(); bar(r); }
      } }, 'Reset zoom'));
    }
  };
  // Lay out after insertion: the width is only known once in the document.
  requestAnimationFrame(() => {
    const r = responsive(box, (width) => {
      const height = opts.height || 260;
      const m = { t: 12, r: 16, b: 44, l: 64 };
      const [lo, hi] = domain || [fullLo, fullHi];
      const idx = [];
      times.forEach((t, i) => { if (t + step >= lo && t <= hi) idx.push(i); });
      let max = 0;
      for (const se of opts.series) for (const i of idx) max = Math.max(max, se.values[i] || 0);
      const yMax = niceMax(max);
      const x = linear(lo, hi, m.l, width - m.r);
      const y = linear(0, yMax, height - m.b, m.t);
      const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': opts.yLabel || 'time series' });
      const clipId = `clip${Math.random().toString(36).slice(2, 8)}`;
      svg.append(s('defs', null, s('clipPath', { id: clipId }, s('rect', { x: m.l, y: m.t - 2, width: width - m.l - m.r, height: height - m.t - m.b + 2 }))));
      axisLeft(svg, y, niceTicks(0, yMax, 5), m.l, width - m.r, compact);
      axisBottom(svg, timeTicks(lo, hi, Math.max(2, Math.floor((width - m.l - m.r) / 90))), x, height - m.b);
      axisTitles(svg, { width, height, m, xLabel: opts.xLabel || 'time (UTC)', yLabel: opts.yLabel });
      const pal = palette();
      const plot = s('g', { 'clip-path': `url(#${clipId})` });
      opts.series.forEach((se, k) => {
        const colour = se.colour || pal[k % pal.length];
        if (!idx.length) return;
        let pts;
        if (step) {
          // Buckets: a flat top over each bucket, down to zero across gaps between buckets.
          pts = [];
          let end = null;
          for (const i of idx) {
            const t0 = times[i];
            const v = y(se.values[i] || 0);
            if (end === null) pts.push([x(t0), y(0)]);
            else if (t0 > end + 1) pts.push([x(end), y(0)], [x(t0), y(0)]);
            pts.push([x(t0), v], [x(t0 + step), v]);
            end = t0 + step;
          }
          pts.push([x(end), y(0)]);
        } else {
          pts = idx.map((i) => [x(times[i]), y(se.values[i] || 0)]);
        }
        const line = pts.map(([px, py], j) => `${j ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`).join('');
        const base = y(0).toFixed(1);
        plot.append(s('path', { class: 'area', fill: colour, d: `${line}L${pts[pts.length - 1][0].toFixed(1)},${base}L${pts[0][0].toFixed(1)},${base}Z` }));
        plot.append(s('path', { class: 'line', stroke: colour, d: line }));
        if (pts.length === 1) plot.append(s('circle', { cx: pts[0][0], cy: pts[0][1], r: 3.5, fill: colour }));
      });
      svg.append(plot);
      const hover = s('g', { visibility: 'hidden' });
      const hl = s('line', { class: 'hover-line', y1: m.t, y2: height - m.b });
      const dots = opts.series.map((se, k) => s('circle', { r: 4, fill: se.colour || pal[k % pal.length], stroke: 'var(--card)', 'stroke-width': 1.5 }));
      hover.append(hl, ...dots);
      svg.append(hover);
      interact(svg, {
        m, width, height, x,
        onBrush: (a, b) => {
          if (opts.onZoom) opts.onZoom(a, b);
          else { domain = [a, b]; r.redraw(); bar(r); }
        },
        onHover: (px, _py, ev) => {
          if (!idx.length) return;
          const t = x.invert(px);
          const mid = (i) => times[i] + step / 2;
          let best = idx[0];
          for (const i of idx) if (Math.abs(mid(i) - t) < Math.abs(mid(best) - t)) best = i;
          const bx = x(mid(best));
          hl.setAttribute('x1', bx);
          hl.setAttribute('x2', bx);
          dots.forEach((d, k) => {
            d.setAttribute('cx', bx);
            d.setAttribute('cy', y(opts.series[k].values[best] || 0));
          });
          hover.setAttribute('visibility', 'visible');
          const lines = [step ? `${dateTime(times[best]).replace(' UTC', '')} – ${clock(times[best] + step)} UTC` : dateTime(times[best])];
          if (opts.bucketLabel) lines.push(['bucket', opts.bucketLabel]);
          for (const se of opts.series) lines.push([se.name, fmt(se.values[best] || 0)]);
          showTip(ev, lines);
        },
        onLeave: () => { hover.setAttribute('visibility', 'hidden'); hideTip(); },
      });
      svg.addEventListener('dblclick', () => {
        if (opts.onReset && opts.zoomed) opts.onReset();
        else if (domain) { domain = null; r.redraw(); bar(r); }
      });
      box.replaceChildren(svg);
    });
    bar(r);
  });
  return wrap;
}

// ---------------------------------------------------------------- bars over days

/**
 * Vertical bars, one per label (days). opts: { labels, values, xLabel, yLabel,
 * tickLabel(label), onClick(i), active: index, height, tip(i) -> lines }
 */
export function barChart(opts) {
  const wrap = h('div', { class: 'chart' });
  requestAnimationFrame(() => responsive(wrap, (width) => {
    const height = opts.height || 280;
    const m = { t: 12, r: 12, b: 46, l: 64 };
    const n = opts.labels.length;
    const yMax = niceMax(Math.max(0, ...opts.values));
    const y = linear(0, yMax, height - m.b, m.t);
    const bw = (width - m.l - m.r) / Math.max(1, n);
    const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': opts.yLabel || 'bars' });
    axisLeft(svg, y, niceTicks(0, yMax, 5), m.l, width - m.r, compact);
    const every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor((width - m.l - m.r) / 34))));
    const ax = s('g', { class: 'axis' });
    opts.labels.forEach((lab, i) => {
      if (i % every) return;
      ax.append(s('text', { x: m.l + bw * (i + 0.5), y: height - m.b + 16, 'text-anchor': 'middle' }, opts.tickLabel ? opts.tickLabel(lab) : lab));
    });
    svg.append(ax);
    axisTitles(svg, { width, height, m, xLabel: opts.xLabel, yLabel: opts.yLabel });
    const g = s('g');
    opts.values.forEach((v, i) => {
      const py = y(v);
      const gap = Math.min(4, bw * 0.2);
      // A full-height invisible target so that zero days are clickable too.
      const hit = s('rect', { x: m.l + bw * i, y: m.t, width: bw, height: height - m.b - m.t, fill: 'transparent', style: opts.onClick ? 'cursor:pointer' : '' });
      const bar = s('rect', {
        class: `bar${opts.active === i ? ' active' : ''}`,
        x: m.l + bw * i + gap / 2, y: py, width: Math.max(1, bw - gap), height: Math.max(v > 0 ? 1 : 0, height - m.b - py),
        'data-label': opts.labels[i],
      });
      const over = (ev) => showTip(ev, opts.tip ? opts.tip(i) : [opts.labels[i], ['count', num(v)]]);
      for (const el of [hit, bar]) {
        el.addEventListener('mousemove', over);
        el.addEventListener('mouseleave', hideTip);
        if (opts.onClick) el.addEventListener('click', () => { hideTip(); opts.onClick(i); });
      }
      g.append(hit, bar);
    });
    svg.append(g);
    wrap.replaceChildren(svg);
  }));
  return wrap;
}

// ---------------------------------------------------------------- bubbles

/** Packs circles of the given radii, largest first, each touching two placed ones. */
export function packCircles(radii) {
  const placed = [];
  const fits = (x, y, r) => placed.every((c) => Math.hypot(c.x - x, c.y - y) >= c.r + r - 1e-6);
  for (const r of radii) {
    if (placed.length === 0) { placed.push({ x: 0, y: 0, r }); continue; }
    if (placed.length === 1) { placed.push({ x: placed[0].r + r, y: 0, r }); continue; }
    // Centre of mass keeps the pack round.
    let cx = 0;
    let cy = 0;
    let wsum = 0;
    for (const c of placed) { const w = c.r * c.r; cx += c.x * w; cy += c.y * w; wsum += w; }
    cx /= wsum;
    cy /= wsum;
    let best = null;
    for (let i = 0; i < placed.length; i++) {
      for (let j = i + 1; j < placed.length; j++) {
        const a = placed[i];
        const b = placed[j];
        const ra = a.r + r;
        const rb = b.r + r;
        const dx = b.x - a.x;
        const dy = b.y - a.y;
        const d = Math.hypot(dx, dy);
        if (d > ra + rb || d < Math.abs(ra - rb) || d === 0) continue;
        const l = (ra * ra - rb * rb + d * d) / (2 * d);
        const hh = Math.sqrt(Math.max(0, ra * ra - l * l));
        const mx = a.x + (dx * l) / d;
        const my = a.y + (dy * l) / d;
        for (const sgn of [1, -1]) {
          const x = mx - (sgn * dy * hh) / d;
          const y = my + (sgn * dx * hh) / d;
          const dist = Math.hypot(x - cx, y - cy);
          if ((!best || dist < best.dist) && fits(x, y, r)) best = { x, y, dist };
        }
      }
    }
    if (!best) {
      // Cannot happen for two or more placed circles, but never loop forever.
      const far = Math.max(...placed.map((c) => Math.hypot(c.x, c.y) + c.r));
      best = { x: far + r, y: 0 };
    }
    placed.push({ x: best.x, y: best.y, r });
  }
  return placed;
}

/**
 * A packed bubble chart: area proportional to count.
 * opts: { rows: [{label, count, note?}], onClick(row), height, unit }
 */
export function bubbleChart(opts) {
  const wrap = h('div', { class: 'chart bubbles' });
  const rows = [...opts.rows].sort((a, b) => b.count - a.count);
  const total = rows.reduce((acc, r) => acc + r.count, 0);
  const packed = packCircles(rows.map((r) => Math.sqrt(Math.max(r.count, 0)) || 0.5));
  requestAnimationFrame(() => responsive(wrap, (width) => {
    const height = opts.height || Math.min(560, Math.max(320, width * 0.55));
    let x0 = Infinity; let x1 = -Infinity; let y0 = Infinity; let y1 = -Infinity;
    for (const c of packed) { x0 = Math.min(x0, c.x - c.r); x1 = Math.max(x1, c.x + c.r); y0 = Math.min(y0, c.y - c.r); y1 = Math.max(y1, c.y + c.r); }
    const pad = 8;
    const k = Math.min((width - 2 * pad) / (x1 - x0 || 1), (height - 2 * pad) / (y1 - y0 || 1));
    const ox = width / 2 - ((x0 + x1) / 2) * k;
    const oy = height / 2 - ((y0 + y1) / 2) * k;
    const pal = palette();
    const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'bubble chart' });
    rows.forEach((row, i) => {
      const c = packed[i];
      const cx = ox + c.x * k;
      const cy = oy + c.y * k;
      const r = Math.max(1, c.r * k);
      const colour = pal[i % pal.length];
      const g = s('g', { class: 'bubble-g', 'data-value': row.label, tabindex: 0, role: 'button', 'aria-label': `${row.label}: ${num(row.count)}` });
      g.append(s('circle', { class: 'bubble', cx, cy, r, fill: colour }));
      const fs = Math.max(10, Math.min(18, r / 3.2));
      const maxChars = Math.floor((2 * r * 0.86) / (fs * 0.6));
      if (r > 16 && maxChars >= 3) {
        let text = row.label;
        if (text.length > maxChars) text = `${text.slice(0, maxChars - 1)}…`;
        const cls = `bubble-label${isLight(colour) ? ' dark' : ''}`;
        const showCount = r > 28;
        g.append(s('text', { class: cls, x: cx, y: showCount ? cy - fs * 0.45 : cy, 'font-size': fs }, text));
        if (showCount) g.append(s('text', { class: cls, x: cx, y: cy + fs * 0.75, 'font-size': fs * 0.78, style: 'font-weight:400' }, compact(row.count)));
      }
      const lines = () => {
        const out = [row.label];
        if (row.note) out.push(row.note);
        out.push([opts.unit || 'count', num(row.count)]);
        if (total) out.push(['share', `${((row.count / total) * 100).toFixed(1)}%`]);
        if (opts.onClick) out.push('click for its daily series');
        return out;
      };
      g.addEventListener('mousemove', (ev) => showTip(ev, lines()));
      g.addEventListener('mouseleave', hideTip);
      if (opts.onClick) {
        g.addEventListener('click', () => { hideTip(); opts.onClick(row); });
        g.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') opts.onClick(row); });
      }
      svg.append(g);
    });
    wrap.replaceChildren(svg);
  }));
  return wrap;
}

// ---------------------------------------------------------------- scatter over time

/**
 * A scatter plot over time. opts: { points: [{t, y, key, tip}], colourOf(key), hidden: Set,
 * domain: [lo, hi] | null, yLabel, yFormat, onZoom(a, b), height, yMax }
 */
export function scatterChart(opts) {
  const wrap = h('div', { class: 'chart' });
  requestAnimationFrame(() => responsive(wrap, (width) => {
    const height = opts.height || 260;
    const m = { t: 10, r: 16, b: 44, l: 70 };
    const pts = opts.points.filter((p) => !opts.hidden.has(p.key));
    let lo = Infinity; let hi = -Infinity;
    for (const p of opts.points) { lo = Math.min(lo, p.t); hi = Math.max(hi, p.t); }
    if (opts.domain) [lo, hi] = opts.domain;
    if (!(hi > lo)) { lo -= SEC; hi += SEC; }
    const vis = pts.filter((p) => p.t >= lo && p.t <= hi);
    const yMax = opts.yMax || niceMax(Math.max(1, ...vis.map((p) => p.y)));
    const x = linear(lo, hi, m.l, width - m.r);
    const y = linear(0, yMax, height - m.b, m.t);
    const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': opts.yLabel || 'scatter' });
    axisLeft(svg, y, niceTicks(0, yMax, 5), m.l, width - m.r, opts.yFormat || compact);
    axisBottom(svg, timeTicks(lo, hi, Math.max(2, Math.floor((width - m.l - m.r) / 90))), x, height - m.b);
    axisTitles(svg, { width, height, m, xLabel: 'time (UTC)', yLabel: opts.yLabel });
    const g = s('g');
    const coords = [];
    for (const p of vis) {
      const px = x(p.t);
      const py = y(p.y);
      coords.push([px, py, p]);
      g.append(s('circle', { class: 'dot', cx: px.toFixed(1), cy: py.toFixed(1), r: 2.6, fill: opts.colourOf(p.key), 'fill-opacity': 0.8 }));
    }
    svg.append(g);
    const ring = s('circle', { r: 5.5, fill: 'none', stroke: 'var(--fg)', 'stroke-width': 1.5, visibility: 'hidden' });
    svg.append(ring);
    interact(svg, {
      m, width, height, x,
      onBrush: opts.onZoom,
      onHover: (px, py, ev) => {
        let best = null;
        let bd = 144;
        for (const c of coords) {
          const d = (c[0] - px) ** 2 + (c[1] - py) ** 2;
          if (d < bd) { bd = d; best = c; }
        }
        if (!best) { ring.setAttribute('visibility', 'hidden'); hideTip(); return; }
        ring.setAttribute('cx', best[0]);
        ring.setAttribute('cy', best[1]);
        ring.setAttribute('visibility', 'visible');
        showTip(ev, best[2].tip());
      },
      onLeave: () => { ring.setAttribute('visibility', 'hidden'); hideTip(); },
    });
    if (!vis.length) svg.append(s('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle' }, 'no points in this range'));
    wrap.replaceChildren(svg);
  }));
  return wrap;
}

/** A legend of toggle buttons. items: [{key, label, colour}]; onToggle(key). */
export function legend(items, hidden, onToggle, onHover) {
  return h('div', { class: 'legend', role: 'group', 'aria-label': 'legend (click to show or hide)' },
    items.map((it) => h('button', {
      type: 'button',
      class: hidden.has(it.key) ? 'off' : '',
      'aria-pressed': String(!hidden.has(it.key)),
      onclick: () => onToggle(it.key),
      onmouseenter: onHover ? () => onHover(it.key) : null,
      onmouseleave: onHover ? () => onHover(null) : null,
    }, h('span', { class: 'sw', style: { background: it.colour } }), it.label)));
}

// ---------------------------------------------------------------- parallel coordinates

/**
 * Parallel coordinates: one vertical axis per day, one line per value through its
 * count on each day. opts: { days, rows: [{value, counts}], colourOf(i), height, unit }
 * Returns { el, highlight(i|null) }.
 */
export function parallelChart(opts) {
  const wrap = h('div', { class: 'chart' });
  let lines = [];
  const highlight = (i) => {
    lines.forEach((l, k) => {
      l.classList.toggle('hot', i === k);
      l.classList.toggle('dim', i !== null && i !== k);
    });
  };
  requestAnimationFrame(() => responsive(wrap, (width) => {
    const height = opts.height || 380;
    const m = { t: 14, r: 24, b: 46, l: 64 };
    const n = opts.days.length;
    let max = 0;
    for (const r of opts.rows) for (const c of r.counts) max = Math.max(max, c);
    const yMax = niceMax(max);
    const y = linear(0, yMax, height - m.b, m.t);
    const x = (i) => m.l + (n <= 1 ? (width - m.l - m.r) / 2 : (i * (width - m.l - m.r)) / (n - 1));
    const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'parallel coordinates' });
    axisLeft(svg, y, niceTicks(0, yMax, 5), m.l, width - m.r, compact);
    const ax = s('g', { class: 'axis' });
    const every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor((width - m.l - m.r) / 40))));
    opts.days.forEach((d, i) => {
      ax.append(s('line', { x1: x(i), x2: x(i), y1: m.t, y2: height - m.b }));
      if (i % every === 0) ax.append(s('text', { x: x(i), y: height - m.b + 16, 'text-anchor': 'middle' }, n <= 12 ? d.slice(5) : d.slice(8)));
    });
    svg.append(ax);
    axisTitles(svg, { width, height, m, xLabel: `day of ${opts.days[0] ? opts.days[0].slice(0, 7) : 'month'}`, yLabel: opts.unit || 'count' });
    lines = opts.rows.map((row, i) => {
      const d = row.counts.map((c, k) => `${k ? 'L' : 'M'}${x(k).toFixed(1)},${y(c).toFixed(1)}`).join('');
      const p = s('g', { class: 'pc-line', stroke: opts.colourOf(i), fill: opts.colourOf(i), 'data-value': row.value },
        s('path', { class: 'hit', d, fill: 'none' }),
        s('path', { class: 'vis', d, fill: 'none' }),
        row.counts.map((c, k) => s('circle', { cx: x(k).toFixed(1), cy: y(c).toFixed(1), r: n === 1 ? 5 : 2.5, stroke: 'none', style: n === 1 ? 'pointer-events: all' : null })));
      p.addEventListener('mouseenter', () => highlight(i));
      p.addEventListener('mousemove', (ev) => {
        const [px] = pointer(svg, ev);
        let k = 0;
        for (let j = 0; j < n; j++) if (Math.abs(x(j) - px) < Math.abs(x(k) - px)) k = j;
        showTip(ev, [row.value, [opts.days[k], num(row.counts[k])], ['month total', num(row.counts.reduce((a, b) => a + b, 0))]]);
      });
      p.addEventListener('mouseleave', () => { highlight(null); hideTip(); });
      return p;
    });
    svg.append(s('g', null, lines));
    wrap.replaceChildren(svg);
  }));
  return { el: wrap, highlight };
}

// ---------------------------------------------------------------- HTML bar lists

/** Horizontal bars as an HTML list. items: [{label, value, note?, href?}]. */
export function barList(items, format = num, colour) {
  const max = Math.max(1, ...items.map((i) => i.value));
  return h('ul', { class: 'bars' }, items.map((it) => {
    const name = it.href ? h('a', { href: it.href, title: it.label }, it.label) : h('span', { title: it.label }, it.label);
    return h('li', null,
      h('span', { class: 'name' }, name, it.note ? h('small', null, it.note) : null),
      h('span', { class: 'track' }, h('span', { class: 'fill', style: { width: `${(it.value / max) * 100}%`, background: it.colour || colour || '' } })),
      h('span', { class: 'num' }, format(it.value)));
  }));
}
