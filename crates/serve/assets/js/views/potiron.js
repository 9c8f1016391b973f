// potiron's charts: top values as bubbles, a value's daily series, the TCP ISN scatter and
// parallel coordinates of daily top values.

import { h, mount, errorBox, noData, emptyState, link } from '../dom.js';
import { get, cached } from '../api.js';
import { num, compact, dateTime, monthOf } from '../fmt.js';
import { bubbleChart, barChart, scatterChart, parallelChart, legend, palette, otherColour, parseTs } from '../charts.js';

const FALLBACK_FIELDS = ['dport', 'sport', 'ipsrc', 'ipdst', 'protocol', 'length', 'ipttl', 'iptos', 'icmptype', 'icmpcode'];

async function fieldNames() {
  try {
    const list = await cached('fields');
    return list.map((f) => ({ name: f.name, description: f.description || '' }));
  } catch {
    return FALLBACK_FIELDS.map((name) => ({ name, description: '' }));
  }
}

function fieldSelect(fields, current, onchange, exclude = []) {
  const sel = h('select', { 'aria-label': 'Field', name: 'field' },
    fields.filter((f) => !exclude.includes(f.name)).map((f) => h('option', { value: f.name, title: f.description }, f.name)));
  sel.value = current;
  sel.addEventListener('change', () => onchange(sel.value));
  return sel;
}

function head(title, sub, ...controls) {
  return h('div', { class: 'page-head' },
    h('div', null, h('h1', null, title), sub ? h('div', { class: 'sub' }, sub) : null),
    h('div', { class: 'controls' }, controls));
}

/** The months that have data, newest first, for the selected sensor. */
function months(ctx) {
  return [...new Set(ctx.state.days().map(monthOf))].sort().reverse();
}

function monthSelect(ctx, current, onchange) {
  const list = months(ctx);
  if (current && !list.includes(current)) list.unshift(current);
  const sel = h('select', { 'aria-label': 'Month', name: 'month' }, list.map((m) => h('option', { value: m }, m)));
  sel.value = current;
  sel.addEventListener('change', () => onchange(sel.value));
  return sel;
}

const note = (r) => (r.value === '-1' ? 'no port' : r.annotation && r.annotation !== r.value ? r.annotation : null);
const label = (r) => (note(r) ? `${r.value} (${note(r)})` : r.value);

/** #/top?field=&day=|month=&limit= — top values as packed bubbles. */
export async function top(view, ctx) {
  const p = ctx.params;
  const field = p.get('field') || 'dport';
  const month = p.get('month') || '';
  const day = month ? '' : p.get('day') || ctx.state.day;
  const limit = Math.min(100, Math.max(1, parseInt(p.get('limit') || '20', 10) || 20));
  const fields = await fieldNames();
  const go = (over) => { location.hash = link('top', { field, day: month ? '' : day, month, limit, ...over }); };

  const period = h('select', { 'aria-label': 'Period', name: 'period' }, h('option', { value: 'day' }, 'one day'), h('option', { value: 'month' }, 'whole month'));
  period.value = month ? 'month' : 'day';
  period.addEventListener('change', () => (period.value === 'month' ? go({ day: '', month: monthOf(day || ctx.state.day) }) : go({ month: '', day: ctx.state.days().includes(day) ? day : ctx.state.day })));
  const limitIn = h('input', { type: 'number', min: 1, max: 100, value: limit, 'aria-label': 'How many values', style: { width: '5rem' } });
  limitIn.addEventListener('change', () => go({ limit: limitIn.value }));
  const controls = [
    h('label', null, 'Field ', fieldSelect(fields, field, (v) => go({ field: v }), ['tcpseq', 'tcpack'])),
    h('label', null, 'Period ', period),
    month ? h('label', null, monthSelect(ctx, month, (v) => go({ month: v }))) : null,
    h('label', null, 'Top ', limitIn),
  ];
  const sub = `${ctx.state.sensor || 'all sensors'} · ${month || day || 'no day'}`;
  const title = `Top ${field} values`;
  if (!month && !day) { mount(view, head(title, sub, controls), h('section', { class: 'card' }, noData('yet'))); return; }
  mount(view, head(title, sub, controls), h('p', { class: 'loading' }, 'Loading…'));

  const res = await get('top', { field, sensor: ctx.state.sensor, limit, ...(month ? { month } : { day }) });
  if (!ctx.alive()) return;
  const rows = res.rows || [];
  const seriesMonth = month || monthOf(day);
  let body;
  if (!rows.length) {
    body = h('section', { class: 'card' }, noData(month ? 'for this month' : 'for this day'));
  } else {
    const total = rows.reduce((a, r) => a + r.count, 0);
    const open = (r) => { location.hash = link('series', { field, value: r.value, month: seriesMonth }); };
    body = h('div', { class: 'grid' },
      h('section', { class: 'card span-8' },
        h('div', { class: 'card-head' }, h('h2', null, `${field}: top ${rows.length}`), h('span', { class: 'hint' }, 'bubble area ∝ packets · click a bubble for its daily series')),
        bubbleChart({ rows: rows.map((r) => ({ label: r.value, note: note(r), count: r.count, value: r.value })), onClick: open, unit: 'packets' })),
      h('section', { class: 'card span-4' },
        h('div', { class: 'card-head' }, h('h2', null, 'Values'), h('span', { class: 'hint' }, `${res.period ? `${res.period.from} – ${res.period.to}` : ''}`)),
        h('div', { class: 'table-wrap' }, h('table', null,
          h('thead', null, h('tr', null, h('th', null, '#'), h('th', null, field), h('th', { class: 'num' }, 'Packets'), h('th', { class: 'num' }, 'Share'))),
          h('tbody', null, rows.map((r, i) => h('tr', null,
            h('td', { class: 'more' }, i + 1),
            h('td', null, h('a', { href: link('series', { field, value: r.value, month: seriesMonth }) }, label(r))),
            h('td', { class: 'num' }, num(r.count)),
            h('td', { class: 'num' }, total ? `${((r.count / total) * 100).toFixed(1)}%` : '–'))))))));
  }
  mount(view, head(title, sub, controls), body);
}

function shiftMonth(m, by) {
  const [y, mo] = m.split('-').map(Number);
  const d = new Date(Date.UTC(y, mo - 1 + by, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** #/series?field=&value=&month= — one value's count per day of a month. */
export async function series(view, ctx) {
  const p = ctx.params;
  const field = p.get('field') || 'dport';
  const value = p.get('value') || '';
  const month = p.get('month') || monthOf(ctx.state.day);
  const go = (over) => { location.hash = link('series', { field, value, month, ...over }); };
  const controls = [
    h('a', { href: link('top', { field, month }) }, `‹ top ${field} of ${month}`),
    h('button', { type: 'button', onclick: () => go({ month: shiftMonth(month, -1) }) }, '‹ Previous month'),
    h('button', { type: 'button', onclick: () => go({ month: shiftMonth(month, 1) }) }, 'Next month ›'),
  ];
  const title = `${field} = ${value}`;
  if (!value || !month) {
    mount(view, head('Daily series', null, controls), emptyState('Pick a value', 'Open ', h('a', { href: link('top', { field }) }, 'the top values'), ' and click a bubble.'));
    return;
  }
  mount(view, head(title, `daily packets in ${month} · ${ctx.state.sensor || 'all sensors'}`, controls), h('p', { class: 'loading' }, 'Loading…'));
  const res = await get('series', { field, value, month, sensor: ctx.state.sensor });
  if (!ctx.alive()) return;
  const pts = res.points || [];
  const total = pts.reduce((a, b) => a + b.count, 0);
  let body;
  if (!total) {
    body = noData(`for ${field} = ${value} in ${month}`);
  } else {
    const peak = pts.reduce((a, b) => (b.count > a.count ? b : a), pts[0]);
    body = h('div', null,
      h('div', { class: 'tiles' },
        h('div', { class: 'tile' }, h('div', { class: 'label' }, 'Packets this month'), h('div', { class: 'value' }, num(total))),
        h('div', { class: 'tile' }, h('div', { class: 'label' }, 'Busiest day'), h('div', { class: 'value' }, peak.day), h('div', { class: 'note' }, `${num(peak.count)} packets`)),
        h('div', { class: 'tile' }, h('div', { class: 'label' }, 'Days with traffic'), h('div', { class: 'value' }, `${pts.filter((x) => x.count).length} / ${pts.length}`))),
      barChart({
        labels: pts.map((x) => x.day),
        values: pts.map((x) => x.count),
        xLabel: `day of ${month} (UTC)`,
        yLabel: 'packets per day',
        tickLabel: (d) => String(Number(d.slice(8))),
        tip: (i) => [pts[i].day, ['packets', num(pts[i].count)], 'click for that day’s top values'],
        onClick: (i) => {
          ctx.selectDay(pts[i].day);
          location.hash = link('top', { field, day: pts[i].day });
        },
      }));
  }
  mount(view, head(title, `daily packets in ${month} · ${ctx.state.sensor || 'all sensors'}`, controls),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', null, 'Packets per day'), h('span', { class: 'hint' }, 'click a day for its bubble chart')), body));
}

/** #/isn?day=&from=HH:MM&minutes=&limit= — TCP sequence and acknowledgement numbers. */
export async function isn(view, ctx) {
  const p = ctx.params;
  const day = p.get('day') || ctx.state.day;
  const from = p.get('from') || '';
  const minutes = p.get('minutes') || '';
  const limit = p.get('limit') || '5000';
  const go = (over) => { location.hash = link('isn', { day, from, minutes, limit, ...over }); };
  const fromIn = h('input', { type: 'time', value: from, 'aria-label': 'From (UTC)' });
  const minIn = h('input', { type: 'number', min: 1, max: 1440, value: minutes, placeholder: 'all day', style: { width: '6rem' }, 'aria-label': 'Minutes' });
  const limIn = h('input', { type: 'number', min: 1, max: 100000, value: limit, style: { width: '6rem' }, 'aria-label': 'At most points' });
  const apply = () => go({ from: fromIn.value, minutes: minIn.value, limit: limIn.value });
  for (const el of [fromIn, minIn, limIn]) el.addEventListener('change', apply);
  const dayList = [...ctx.state.days()].reverse();
  if (day && !dayList.includes(day)) dayList.unshift(day);
  const daySel = h('select', { 'aria-label': 'Day' }, dayList.map((d) => h('option', { value: d }, d)));
  daySel.value = day;
  daySel.addEventListener('change', () => go({ day: daySel.value }));
  const controls = [h('label', null, 'Day ', daySel), h('label', null, 'From ', fromIn), h('label', null, 'Minutes ', minIn), h('label', null, 'Points ', limIn)];
  const title = 'TCP sequence numbers';
  const sub = `TCP packets of ${day || 'no day'} · ${ctx.state.sensor || 'all sensors'}`;
  if (!day) { mount(view, head(title, sub, controls), h('section', { class: 'card' }, noData('yet'))); return; }
  mount(view, head(title, sub, controls), h('p', { class: 'loading' }, 'Loading…'));
  const res = await get('isn', { day, sensor: ctx.state.sensor, from, minutes, limit });
  if (!ctx.alive()) return;
  const raw = (res.points || []).map((pt) => ({ ...pt, dport: pt.dport ?? '?', sport: pt.sport ?? '?' }));
  if (!raw.length) { mount(view, head(title, sub, controls), h('section', { class: 'card' }, noData('for this day'))); return; }

  // Colour by destination port: the most frequent ports get the palette, the rest "other".
  const counts = new Map();
  for (const pt of raw) counts.set(pt.dport, (counts.get(pt.dport) || 0) + 1);
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0]), 'en', { numeric: true }));
  const pal = palette();
  const nColours = ranked.length > pal.length ? pal.length - 1 : pal.length;
  const colourOf = new Map(ranked.slice(0, nColours).map(([port], i) => [String(port), pal[i]]));
  const other = ranked.slice(nColours);
  const keyOf = (port) => (colourOf.has(String(port)) ? String(port) : 'other');
  const points = raw.map((pt) => {
    const t = parseTs(pt.ts);
    const tip = () => [dateTime(t).replace(' UTC', `.${String(t % 1000).padStart(3, '0')} UTC`), ['dport', pt.dport], ['sport', pt.sport], ['seq', num(pt.seq)], ['ack', num(pt.ack)]];
    return { t, key: keyOf(pt.dport), seq: pt.seq, ack: pt.ack, tip };
  });
  const items = ranked.slice(0, nColours).map(([port, c], i) => ({ key: String(port), label: `${port} (${num(c)})`, colour: pal[i] }));
  if (other.length) items.push({ key: 'other', label: `other: ${num(other.length)} ports (${num(other.reduce((a, b) => a + b[1], 0))})`, colour: otherColour() });
  const colour = (k) => (k === 'other' ? otherColour() : colourOf.get(k));

  const hidden = new Set();
  let domain = null;
  const panels = h('div');
  const legendBox = h('div');
  const zoomBar = h('div', { class: 'chart-toolbar' });
  const draw = () => {
    mount(zoomBar, h('span', null, 'Drag across a chart to zoom in on a time range; click the legend to show or hide ports'),
      domain ? h('button', { type: 'button', onclick: () => { domain = null; draw(); } }, 'Reset zoom') : null);
    mount(legendBox, legend(items, hidden, (k) => { if (hidden.has(k)) hidden.delete(k); else hidden.add(k); draw(); }));
    const zoom = (a, b) => { domain = [a, b]; draw(); };
    mount(panels,
      h('h3', null, 'Sequence number'),
      scatterChart({ points: points.filter((x) => x.seq !== null && x.seq !== undefined).map((x) => ({ ...x, y: x.seq })), colourOf: colour, hidden, domain, yLabel: 'sequence number', yMax: 2 ** 32, onZoom: zoom }),
      h('h3', null, 'Acknowledgement number'),
      scatterChart({ points: points.filter((x) => x.ack !== null && x.ack !== undefined).map((x) => ({ ...x, y: x.ack })), colourOf: colour, hidden, domain, yLabel: 'acknowledgement number', yMax: 2 ** 32, onZoom: zoom }));
  };
  draw();
  mount(view, head(title, sub, controls),
    h('section', { class: 'card' },
      h('div', { class: 'card-head' }, h('h2', null, `${num(raw.length)} packets, coloured by destination port`), h('span', { class: 'hint' }, raw.length >= Number(limit) ? `first ${num(Number(limit))} points` : '')),
      legendBox, zoomBar, panels));
}

/** The selected day's month if it has several days of data, else the month with most. */
function defaultMonth(ctx) {
  const perMonth = new Map();
  for (const d of ctx.state.days()) perMonth.set(monthOf(d), (perMonth.get(monthOf(d)) || 0) + 1);
  const mine = monthOf(ctx.state.day);
  if ((perMonth.get(mine) || 0) >= 2) return mine;
  let best = mine;
  for (const [m, n] of perMonth) if (n > (perMonth.get(best) || 0) || (n === (perMonth.get(best) || 0) && m > best)) best = m;
  return best;
}

/** #/parallel?field=&month=&limit= — parallel coordinates of each day's top values. */
export async function parallel(view, ctx) {
  const p = ctx.params;
  const field = p.get('field') || 'dport';
  const month = p.get('month') || defaultMonth(ctx);
  const limit = p.get('limit') || '5';
  const fields = await fieldNames();
  const go = (over) => { location.hash = link('parallel', { field, month, limit, ...over }); };
  const limIn = h('input', { type: 'number', min: 1, max: 50, value: limit, style: { width: '5rem' }, 'aria-label': 'Top values per day' });
  limIn.addEventListener('change', () => go({ limit: limIn.value }));
  const controls = [
    h('label', null, 'Field ', fieldSelect(fields, field, (v) => go({ field: v }), ['tcpseq', 'tcpack'])),
    h('label', null, 'Month ', monthSelect(ctx, month, (v) => go({ month: v }))),
    h('label', null, 'Top per day ', limIn),
  ];
  const title = `Daily top ${field} values`;
  const sub = `${month || 'no month'} · ${ctx.state.sensor || 'all sensors'}`;
  if (!month) { mount(view, head(title, sub, controls), h('section', { class: 'card' }, noData('yet'))); return; }
  mount(view, head(title, sub, controls), h('p', { class: 'loading' }, 'Loading…'));
  const res = await get('parallel', { field, month, limit, sensor: ctx.state.sensor });
  if (!ctx.alive()) return;
  const days = res.days || [];
  const rows = (res.rows || []).map((r) => ({ ...r, total: r.counts.reduce((a, b) => a + b, 0) })).sort((a, b) => b.total - a.total);
  if (!rows.length || !days.length) { mount(view, head(title, sub, controls), h('section', { class: 'card' }, noData('for this month'))); return; }
  const pal = palette();
  const coloured = rows.length > pal.length ? pal.length - 1 : pal.length;
  const colourOf = (i) => (i < coloured ? pal[i] : otherColour());
  const hidden = new Set();
  const box = h('div');
  const legendBox = h('div');
  const busy = days.map((_, k) => rows.some((r) => r.counts[k] > 0));
  const emptyDays = busy.filter((b) => !b).length;
  const compactIn = h('input', { type: 'checkbox', checked: emptyDays > 0, onchange: () => draw() });
  let chart = null;
  const draw = () => {
    const shown = rows.map((r, i) => ({ r, i })).filter(({ r }) => !hidden.has(r.value));
    const keep = days.map((_, k) => !compactIn.checked || busy[k]);
    const pick = (list) => list.filter((_, k) => keep[k]);
    chart = parallelChart({ days: pick(days), rows: shown.map(({ r }) => ({ ...r, counts: pick(r.counts) })), colourOf: (k) => colourOf(shown[k].i), unit: 'packets per day' });
    mount(box, chart.el);
    mount(legendBox, legend(rows.map((r, i) => ({ key: r.value, label: `${r.value} (${compact(r.total)})`, colour: colourOf(i) })), hidden,
      (k) => { if (hidden.has(k)) hidden.delete(k); else hidden.add(k); draw(); },
      (k) => { if (!chart) return; const idx = shown.findIndex(({ r }) => r.value === k); chart.highlight(k === null || idx < 0 ? null : idx); }));
  };
  draw();
  mount(view, head(title, sub, controls),
    h('section', { class: 'card' },
      h('div', { class: 'card-head' }, h('h2', null, `${rows.length} values that made a day's top ${limit}`), h('span', { class: 'hint' }, 'hover a line or a legend entry to highlight it; click the legend to hide')),
      emptyDays ? h('div', { class: 'chart-toolbar' }, h('label', null, compactIn, ` hide the ${emptyDays} day${emptyDays === 1 ? '' : 's'} without any of these values`)) : null,
      box, legendBox));
}
