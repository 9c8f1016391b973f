// Overview: tiles, roles, top talkers, ports and protocols, traffic over time.

import { h, mount, errorBox, noData, emptyState, link } from '../dom.js';
import { get } from '../api.js';
import { num, bytes, dateTime, duration } from '../fmt.js';
import { timeChart, barList, parseTs } from '../charts.js';

function card(title, hint, body, span = 'span-4') {
  return h('section', { class: `card ${span}` },
    h('div', { class: 'card-head' }, h('h2', null, title), hint ? h('span', { class: 'hint' }, hint) : null),
    body);
}

function tile(label, value, note) {
  return h('div', { class: 'tile' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), note ? h('div', { class: 'note' }, note) : null);
}

function rowLabel(r) {
  if (r.value === '-1') return 'no port';
  return r.annotation && r.annotation !== r.value ? r.annotation : null;
}

/** Renders a settled promise into a card body: its value through fn, or its error. */
function settled(res, fn) {
  if (res.status === 'rejected') return errorBox(res.reason);
  return fn(res.value);
}

/** The traffic card body: a chart with a packets/bytes switch and brush-to-zoom. */
export function trafficPanel(load, empty) {
  const body = h('div', null, h('p', { class: 'loading' }, 'Loading…'));
  let metric = 'packets';
  let range = null;
  const switcher = h('select', { 'aria-label': 'Metric', onchange: (e) => { metric = e.target.value; draw(); } },
    h('option', { value: 'packets' }, 'packets'), h('option', { value: 'bytes' }, 'bytes'));
  let data = null;
  let error = null;
  const draw = () => {
    if (error) { mount(body, errorBox(error)); return; }
    if (!data) return;
    const pts = data.points || [];
    if (!pts.length || pts.every((p) => !p.packets)) { mount(body, empty()); return; }
    const bucket = duration(data.bucket_seconds || 60);
    mount(body, timeChart({
      times: pts.map((p) => parseTs(p.ts)),
      series: [{ name: metric, values: pts.map((p) => p[metric] || 0) }],
      yLabel: metric === 'bytes' ? `bytes per ${bucket}` : `packets per ${bucket}`,
      format: metric === 'bytes' ? bytes : num,
      bucketLabel: bucket,
      stepMs: (data.bucket_seconds || 60) * 1000,
      zoomed: !!range,
      onZoom: (a, b) => { range = [new Date(a).toISOString(), new Date(b).toISOString()]; fetchIt(); },
      onReset: () => { range = null; fetchIt(); },
    }));
  };
  const fetchIt = async () => {
    try {
      data = await load(range);
      error = null;
    } catch (e) {
      error = e;
    }
    draw();
  };
  fetchIt();
  return { body, switcher };
}

/** #/ — the overview of one sensor and day. */
export async function overview(view, ctx) {
  const { sensor, day } = ctx.state;
  const head = h('div', { class: 'page-head' },
    h('div', null, h('h1', null, 'Overview'), h('div', { class: 'sub' }, `${sensor || 'all sensors'} · ${day || 'no day selected'}`)));
  if (!ctx.state.sensors.length || !day) {
    mount(view, head, h('section', { class: 'card' }, noData('yet')));
    return;
  }
  mount(view, head, h('p', { class: 'loading' }, 'Loading…'));
  const q = { sensor, day };
  const [summary, talkers, ports, protos] = await Promise.allSettled([
    get('summary', q),
    get('top', { ...q, field: 'ipsrc', limit: 10 }),
    get('top', { ...q, field: 'dport', limit: 10 }),
    get('top', { ...q, field: 'protocol', limit: 10 }),
  ]);
  if (!ctx.alive()) return;

  let tiles;
  if (summary.status === 'fulfilled') {
    const sm = summary.value;
    const span = sm.first_seen && sm.last_seen ? `${dateTime(sm.first_seen)} – ${dateTime(sm.last_seen).slice(11)}` : null;
    tiles = h('div', { class: 'tiles' },
      tile('Packets', num(sm.packets), span),
      tile('Bytes', bytes(sm.bytes), `${num(sm.bytes)} B`),
      tile('Hosts', num(sm.hosts), h('a', { href: link('hosts') }, 'see the hosts')),
      tile('Flows', num(sm.flows)),
      tile('Files', num(sm.files), h('a', { href: link('captures') }, 'captures')));
  } else {
    tiles = errorBox(summary.reason);
  }
  const emptyDay = () => noData('for this day');
  const topList = (res, opts) => settled(res, (v) => (v.rows && v.rows.length
    ? barList(v.rows.map((r) => ({ label: opts.label ? opts.label(r) : r.value, note: opts.note ? opts.note(r) : rowLabel(r), value: r.count, href: opts.href(r) })), num, opts.colour)
    : emptyDay()));

  const roles = settled(summary, (sm) => {
    const rows = (sm.roles || []).filter((r) => r.count > 0).sort((a, b) => b.count - a.count);
    if (!rows.length) return emptyState('No hosts classified yet', 'Open a host and press “Classify now”.');
    const classified = rows.reduce((a, r) => a + r.count, 0);
    const rest = Math.max(0, (sm.hosts || 0) - classified);
    return h('div', null,
      barList(rows.map((r) => ({ label: r.role, value: r.count, href: link('hosts', { role: r.role }) })), num, 'var(--c2)'),
      rest ? h('p', { class: 'more' }, `${num(rest)} of ${num(sm.hosts)} hosts have no prediction yet (too little traffic, or not classified).`) : null);
  });

  const traffic = trafficPanel((range) => get('traffic', range ? { sensor, from: range[0], to: range[1] } : q), emptyDay);

  mount(view, head, tiles,
    h('div', { class: 'grid' },
      card('Traffic over time', null, h('div', null, h('div', { class: 'controls', style: { justifyContent: 'flex-end' } }, h('label', null, 'Show ', traffic.switcher)), traffic.body), 'span-12'),
      card('Top talkers', 'source IP, packets', topList(talkers, { href: (r) => link('hosts', { q: r.value }) })),
      card('Top destination ports', 'packets', topList(ports, { href: (r) => link('series', { field: 'dport', value: r.value, month: day.slice(0, 7) }), colour: 'var(--c1)' })),
      card('Protocols', 'packets', topList(protos, { label: (r) => r.annotation || r.value, note: (r) => (r.annotation ? r.value : null), href: (r) => link('series', { field: 'protocol', value: r.value, month: day.slice(0, 7) }), colour: 'var(--c3)' })),
      card('Roles', 'hosts per predicted role', roles, 'span-6'),
      card('Explore', null, h('ul', null,
        h('li', null, h('a', { href: link('top', { field: 'dport', day }) }, 'Top values as bubbles'), ' — any field, a day or a month'),
        h('li', null, h('a', { href: link('isn', { day }) }, 'TCP sequence numbers'), ' — ISN scatter by destination port'),
        h('li', null, h('a', { href: link('parallel', { field: 'dport', month: day.slice(0, 7) }) }, 'Parallel coordinates'), ' — daily top values over the month'),
        h('li', null, h('a', { href: link('captures') }, 'Upload a capture'))), 'span-6')));
}
