// #/host/<key> — one host: inventory, role probabilities and history, services, traffic, flows.

import { h, mount, errorBox, emptyState, toast, link } from '../dom.js';
import { get, post } from '../api.js';
import { num, bytes, dateTime, pct } from '../fmt.js';
import { barList } from '../charts.js';
import { roleBadge, confMeter } from './hosts.js';
import { trafficPanel } from './overview.js';

const FLOW_PAGE = 25;

function card(title, body, span = 'span-6', hint) {
  return h('section', { class: `card ${span}` },
    h('div', { class: 'card-head' }, h('h2', null, title), hint ? h('span', { class: 'hint' }, hint) : null), body);
}

function chips(list, max = 12) {
  if (!list || !list.length) return null;
  return h('div', { class: 'chips' }, list.slice(0, max).map((x) => h('span', { class: 'chip' }, x)),
    list.length > max ? h('span', { class: 'more' }, `+${list.length - max} more`) : null);
}

/** A definition list, leaving out empty entries. */
function kv(pairs) {
  const dl = h('dl', { class: 'kv' });
  for (const [k, v] of pairs) {
    if (v === null || v === undefined || v === '' || (Array.isArray(v) && !v.length)) continue;
    dl.append(h('dt', null, k), h('dd', null, v));
  }
  return dl;
}

function serviceTable(list, empty) {
  if (!list || !list.length) return h('p', { class: 'more' }, empty);
  return h('table', null,
    h('thead', null, h('tr', null, h('th', null, 'Protocol'), h('th', { class: 'num' }, 'Port'), h('th', null, 'Service'))),
    h('tbody', null, list.map((sv) => h('tr', null,
      h('td', null, sv.protocol), h('td', { class: 'num' }, sv.port), h('td', null, sv.name || h('span', { class: 'more' }, '–'))))));
}

function topOf(pred) {
  return (pred.top || []).map((t, i) => ({ label: t.role, value: t.probability, colour: i === 0 ? 'var(--c2)' : 'var(--c4)' }));
}

/** Renders #/host/<key>. */
export async function host(view, ctx) {
  const key = ctx.rest.join('/');
  if (!key) {
    mount(view, emptyState('No host given', h('a', { href: link('hosts') }, 'Pick one in the hosts table')));
    return;
  }
  mount(view, h('p', { class: 'loading' }, 'Loading…'));
  const d = await get(`hosts/${encodeURIComponent(key)}`);
  if (!ctx.alive()) return;
  const sm = d.summary || {};
  const rec = d.record || {};
  let predictions = d.predictions || [];

  // Role probabilities and history, redrawn after "classify now".
  const roleBox = h('div');
  const classify = h('button', { type: 'button', class: 'primary', id: 'classify-now' }, 'Classify now');
  const drawRoles = () => {
    const latest = predictions[0];
    if (!latest) {
      mount(roleBox, emptyState('Not classified yet', 'Press “Classify now” to run the model on this host.'));
      return;
    }
    mount(roleBox,
      h('p', null, roleBadge(latest.role), ' ', confMeter(latest.confidence), latest.reason ? h('span', { class: 'more' }, ` — ${latest.reason}`) : null),
      h('h3', null, 'Top-3 role probabilities'),
      barList(topOf(latest), pct),
      h('h3', null, `Prediction history (${predictions.length})`),
      h('div', { class: 'table-wrap' }, h('table', { id: 'predictions-table' },
        h('thead', null, h('tr', null, h('th', null, 'Time (UTC)'), h('th', null, 'Model'), h('th', null, 'Role'), h('th', { class: 'num' }, 'Confidence'), h('th', null, 'Runners-up'))),
        h('tbody', null, predictions.slice(0, 20).map((p) => h('tr', null,
          h('td', null, dateTime(p.ts, { zone: false })),
          h('td', { class: 'mono' }, p.model),
          h('td', null, roleBadge(p.role)),
          h('td', { class: 'num' }, pct(p.confidence)),
          h('td', { class: 'more' }, (p.top || []).slice(1).map((t) => `${t.role} ${pct(t.probability)}`).join(', ') || '–')))))));
  };
  classify.addEventListener('click', async () => {
    classify.disabled = true;
    classify.textContent = 'Classifying…';
    try {
      const p = await post(`hosts/${encodeURIComponent(key)}/classify`);
      predictions = [p, ...predictions];
      drawRoles();
      toast(`Classified as ${p.role} (${pct(p.confidence)})`);
    } catch (e) {
      toast(`${e.code || 'error'}: ${e.detail || e.message}`, 'error');
    } finally {
      classify.disabled = false;
      classify.textContent = 'Classify now';
    }
  });
  drawRoles();

  const os = rec.os ? [rec.os, rec.os_basis ? `(${rec.os_basis}${rec.os_source ? `, ${rec.os_source}` : ''})` : ''].join(' ') : sm.os;
  const inventory = kv([
    ['MAC', rec.mac ? h('span', { class: 'mono' }, rec.mac) : null],
    ['Vendor', sm.vendor || rec.vendor || (rec.mac_local ? 'locally administered MAC' : null)],
    ['Main IP', rec.ip ? h('span', { class: 'mono' }, rec.ip) : null],
    ['IPv4', chips(rec.ipv4)],
    ['IPv6', chips(rec.ipv6)],
    ['Behind router', rec.behind_router ? h('a', { href: `#/host/${encodeURIComponent(rec.behind_router)}`, class: 'mono' }, rec.behind_router) : null],
    ['Router', rec.router ? 'yes — forwards traffic from other addresses' : null],
    ['First seen', dateTime(sm.first_seen || rec.first_ts)],
    ['Last seen', dateTime(sm.last_seen || rec.last_ts)],
    ['Sensors', chips(sm.sensors)],
    ['Names', chips(sm.names)],
    ['DHCP host name', rec.dhcp_hostname],
    ['DHCP vendor class', rec.dhcp_vendor_class],
    ['DHCP fingerprint', rec.dhcp_fingerprint ? h('span', { class: 'mono' }, rec.dhcp_fingerprint) : null],
    ['mDNS names', chips(rec.mdns_names)],
    ['SSDP servers', chips(rec.ssdp_servers)],
    ['DNS queries', chips(rec.dns_queries)],
    ['OS guess', os],
    ['OS fingerprint', rec.os_fingerprint ? h('span', { class: 'mono' }, rec.os_fingerprint) : null],
    ['TLS SNI', chips(rec.tls_sni)],
    ['JA3', chips(rec.tls_ja3, 4)],
    ['JA4', chips(rec.tls_ja4, 4)],
    ['HTTP user agents', chips(rec.http_user_agents, 4)],
    ['Traffic', `${num(sm.packets ?? (rec.pkts_out || 0) + (rec.pkts_in || 0))} packets, ${bytes(sm.bytes ?? (rec.bytes_out || 0) + (rec.bytes_in || 0))}`],
    ['Flows', rec.flows !== undefined ? num(rec.flows) : null],
  ]);

  // Traffic: the detail's own series, refetched on zoom.
  const traffic = trafficPanel(async (range) => {
    if (!range) return d.traffic || { points: [] };
    return get('traffic', { host: key, from: range[0], to: range[1] });
  }, () => emptyState('No traffic recorded for this host'));

  // Flows, paged.
  const flowBox = h('div', { class: 'table-wrap' }, h('p', { class: 'loading' }, 'Loading…'));
  const flowPager = h('div', { class: 'pager' });
  let flowOffset = 0;
  const loadFlows = async () => {
    let page;
    try {
      page = await get(`hosts/${encodeURIComponent(key)}/flows`, { offset: flowOffset, limit: FLOW_PAGE });
    } catch (e) {
      mount(flowBox, errorBox(e));
      return;
    }
    if (!ctx.alive()) return;
    const items = page.items || [];
    if (!items.length) { mount(flowBox, emptyState('No flows')); mount(flowPager); return; }
    const ep = (ip, port) => (port !== undefined && port !== null ? (ip && ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`) : ip || '–');
    mount(flowBox, h('table', { id: 'flows-table' },
      h('thead', null, h('tr', null, ['Start (UTC)', 'Proto', 'Originator', 'Responder', 'State'].map((t) => h('th', null, t)),
        h('th', { class: 'num' }, 'Packets'), h('th', { class: 'num' }, 'Bytes'), h('th', { class: 'num' }, 'Duration'))),
      h('tbody', null, items.map((fl) => h('tr', null,
        h('td', null, dateTime(fl.first_ts, { zone: false })),
        h('td', null, fl.proto || fl.protocol),
        h('td', { class: 'mono' }, ep(fl.orig_ip, fl.orig_port)),
        h('td', { class: 'mono' }, ep(fl.resp_ip, fl.resp_port)),
        h('td', null, fl.conn_state || '–'),
        h('td', { class: 'num' }, num((fl.orig_pkts || 0) + (fl.resp_pkts || 0))),
        h('td', { class: 'num' }, bytes((fl.orig_bytes || 0) + (fl.resp_bytes || 0))),
        h('td', { class: 'num' }, fl.duration_ms !== undefined ? `${num(fl.duration_ms)} ms` : '–'))))));
    const last = flowOffset + items.length;
    mount(flowPager,
      h('span', null, `${num(flowOffset + 1)}–${num(last)} of ${num(page.total)}`),
      h('button', { type: 'button', disabled: flowOffset === 0, onclick: () => { flowOffset = Math.max(0, flowOffset - FLOW_PAGE); loadFlows(); } }, '‹ Previous'),
      h('button', { type: 'button', disabled: last >= page.total, onclick: () => { flowOffset += FLOW_PAGE; loadFlows(); } }, 'Next ›'));
  };

  const title = (sm.names && sm.names[0]) || sm.mac || key;
  mount(view,
    h('div', { class: 'page-head' },
      h('div', null,
        h('div', { class: 'sub' }, h('a', { href: link('hosts') }, '‹ Hosts')),
        h('h1', null, title),
        h('div', { class: 'sub' }, roleBadge(sm.role), rec.router ? [' ', h('span', { class: 'badge router' }, 'router')] : null, ' ',
          [sm.vendor, sm.os, (sm.ips || []).slice(0, 3).join(', ')].filter(Boolean).join(' · '))),
      classify),
    h('div', { class: 'grid' },
      card('Inventory', inventory),
      card('Role', roleBox, 'span-6', predictions[0] ? `model ${predictions[0].model}` : null),
      card('Traffic over time', h('div', null, h('div', { class: 'controls', style: { justifyContent: 'flex-end' } }, h('label', null, 'Show ', traffic.switcher)), traffic.body), 'span-12'),
      card('Services offered', serviceTable(d.services_offered, 'No port answered.'), 'span-6', 'ports this host answered on'),
      card('Services used', serviceTable(d.services_used, 'No service used.'), 'span-6', 'ports of other hosts it talked to'),
      card('Flows', h('div', null, flowBox, flowPager), 'span-12')));
  await loadFlows();
}
