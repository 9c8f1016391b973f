// #/hosts — the host table: filters, sortable headers, paging.

import { h, mount, errorBox, emptyState, debounce, link } from '../dom.js';
import { get } from '../api.js';
import { num, bytes, dateTime, conf } from '../fmt.js';

const PAGE = 50;

const COLUMNS = [
  { key: 'host', label: 'Host', sort: 'mac' },
  { key: 'role', label: 'Role', sort: 'role' },
  { key: 'confidence', label: 'Confidence', sort: 'confidence' },
  { key: 'ips', label: 'IP addresses', sort: 'ip' },
  { key: 'names', label: 'Names' },
  { key: 'vendor', label: 'Vendor', sort: 'vendor' },
  { key: 'os', label: 'OS', sort: 'os' },
  { key: 'packets', label: 'Packets', sort: 'packets', num: true },
  { key: 'bytes', label: 'Bytes', sort: 'bytes', num: true },
  { key: 'last_seen', label: 'Last seen (UTC)', sort: 'last_seen' },
];

/** A role badge; "Unknown" and absent roles are grey. */
export function roleBadge(role) {
  if (!role) return h('span', { class: 'badge unknown' }, 'unclassified');
  return h('span', { class: `badge${role === 'Unknown' ? ' unknown' : ''}` }, role);
}

/** A confidence as a small meter and a percentage. */
export function confMeter(c) {
  if (c === null || c === undefined) return h('span', { class: 'more' }, '–');
  return h('span', { class: 'conf', title: `confidence ${conf(c)}` },
    h('span', { class: 'meter' }, h('span', { style: { width: `${Math.round(c * 100)}%` } })), conf(c));
}

function listCell(items, max = 2) {
  if (!items || !items.length) return h('span', { class: 'more' }, '–');
  return h('div', { class: 'list' }, items.slice(0, max).map((i) => h('span', null, i)),
    items.length > max ? h('span', { class: 'more' }, `+${items.length - max} more`) : null);
}

/** Renders #/hosts. */
export async function hosts(view, ctx) {
  const p = ctx.params;
  const f = {
    q: p.get('q') || '',
    role: p.get('role') || '',
    vendor: p.get('vendor') || '',
    subnet: p.get('subnet') || '',
    os: p.get('os') || '',
    sort: p.get('sort') || 'last_seen',
    order: p.get('order') || 'desc',
    offset: Math.max(0, parseInt(p.get('offset') || '0', 10) || 0),
  };
  const { sensor } = ctx.state;

  const status = h('div', { class: 'sub' }, ' ');
  const tableBox = h('div', { class: 'table-wrap' }, h('p', { class: 'loading' }, 'Loading…'));
  const pager = h('div', { class: 'pager' });

  const roleSel = h('select', { name: 'role', 'aria-label': 'Role' }, h('option', { value: '' }, 'any role'));
  const input = (name, placeholder, type = 'text') => h('input', { type, name, placeholder, value: f[name], 'aria-label': placeholder });
  const qIn = input('q', 'Search MAC, IP, name, vendor…', 'search');
  const vendorIn = input('vendor', 'Vendor');
  const subnetIn = input('subnet', 'Subnet, e.g. 10.0.0.0/8');
  const osIn = input('os', 'OS');
  const clear = h('button', { type: 'button', onclick: () => {
    for (const el of [qIn, vendorIn, subnetIn, osIn]) el.value = '';
    roleSel.value = '';
    changed();
  } }, 'Clear');

  let seq = 0;
  const load = async () => {
    if (!ctx.alive()) return;
    const my = ++seq;
    ctx.setParams({ ...f, offset: f.offset || '', sort: f.sort === 'last_seen' ? '' : f.sort, order: f.order === 'desc' ? '' : f.order });
    let page;
    try {
      page = await get('hosts', { ...f, sensor, limit: PAGE });
    } catch (e) {
      if (my === seq && ctx.alive()) { mount(tableBox, errorBox(e)); mount(pager); status.textContent = ' '; }
      return;
    }
    if (my !== seq || !ctx.alive()) return;
    const items = page.items || [];
    const filtered = f.q || f.role || f.vendor || f.subnet || f.os;
    status.textContent = `${num(page.total)} host${page.total === 1 ? '' : 's'}${filtered ? ' match the filters' : ''}`;
    if (!items.length) {
      mount(tableBox, filtered ? emptyState('No host matches these filters', 'Loosen or clear the filters.') : emptyState('No hosts yet', 'Ingest a capture on the ', h('a', { href: '#/captures' }, 'Captures'), ' page.'));
      mount(pager);
      return;
    }
    const head = h('tr', null, COLUMNS.map((c) => {
      const th = h('th', { scope: 'col', class: `${c.num ? 'num ' : ''}${c.sort ? 'sortable' : ''}`, 'data-col': c.key }, c.label);
      if (c.sort) {
        th.tabIndex = 0;
        th.setAttribute('aria-sort', f.sort === c.sort ? (f.order === 'asc' ? 'ascending' : 'descending') : 'none');
        const go = () => {
          if (f.sort === c.sort) f.order = f.order === 'asc' ? 'desc' : 'asc';
          else { f.sort = c.sort; f.order = ['packets', 'bytes', 'last_seen', 'confidence'].includes(c.sort) ? 'desc' : 'asc'; }
          f.offset = 0;
          load();
        };
        th.addEventListener('click', go);
        th.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') go(); });
      }
      return th;
    }));
    const rows = items.map((hs) => {
      const href = `#/host/${encodeURIComponent(hs.key)}`;
      const tr = h('tr', { class: 'clickable', 'data-key': hs.key },
        h('td', null, h('a', { href, class: 'mono' }, hs.mac || hs.key), hs.state ? h('div', { class: 'more' }, hs.state) : null),
        h('td', null, roleBadge(hs.role)),
        h('td', null, confMeter(hs.confidence)),
        h('td', { class: 'mono' }, listCell(hs.ips)),
        h('td', null, listCell(hs.names)),
        h('td', null, hs.vendor || h('span', { class: 'more' }, '–')),
        h('td', null, hs.os || h('span', { class: 'more' }, '–')),
        h('td', { class: 'num' }, num(hs.packets)),
        h('td', { class: 'num' }, bytes(hs.bytes)),
        h('td', null, dateTime(hs.last_seen, { zone: false })));
      [...tr.children].forEach((td, i) => { td.dataset.col = COLUMNS[i].key; });
      tr.addEventListener('click', (ev) => {
        if (ev.target.closest('a')) return;
        location.hash = href;
      });
      return tr;
    });
    mount(tableBox, h('table', { id: 'hosts-table' }, h('thead', null, head), h('tbody', null, rows)));
    const last = Math.min(page.total, f.offset + items.length);
    mount(pager,
      h('span', null, `${num(f.offset + 1)}–${num(last)} of ${num(page.total)}`),
      h('button', { type: 'button', disabled: f.offset === 0, onclick: () => { f.offset = Math.max(0, f.offset - PAGE); load(); } }, '‹ Previous'),
      h('button', { type: 'button', disabled: last >= page.total, onclick: () => { f.offset += PAGE; load(); } }, 'Next ›'));
  };

  const changed = () => {
    f.q = qIn.value.trim();
    f.vendor = vendorIn.value.trim();
    f.subnet = subnetIn.value.trim();
    f.os = osIn.value.trim();
    f.role = roleSel.value;
    f.offset = 0;
    load();
  };
  const typed = debounce(changed, 250);
  for (const el of [qIn, vendorIn, subnetIn, osIn]) el.addEventListener('input', typed);
  roleSel.addEventListener('change', changed);

  mount(view,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Hosts'), status)),
    h('section', { class: 'card' },
      h('form', { class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); changed(); } }, qIn, roleSel, vendorIn, subnetIn, osIn, clear),
      tableBox, pager));

  // Role choices come from the summary; the current filter stays selectable regardless.
  get('summary', { sensor }).then((sm) => {
    const roles = new Set((sm.roles || []).map((r) => r.role));
    if (f.role) roles.add(f.role);
    for (const r of [...roles].sort()) roleSel.append(h('option', { value: r }, r));
    roleSel.value = f.role;
  }).catch(() => {
    if (f.role) { roleSel.append(h('option', { value: f.role }, f.role)); roleSel.value = f.role; }
  });
  await load();
}

/** A link to the host list filtered by text. */
export const hostsLink = (q) => link('hosts', { q });
