// Small DOM helpers. Every text from the API goes in through textContent, never innerHTML:
// host names, user agents and DNS names come from captured traffic.

const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && !(el instanceof SVGElement) && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Creates an HTML element: h('a', {href: '#/'}, 'text', child, ...). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** Creates an SVG element. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** Replaces the children of el. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const tip = () => document.getElementById('tooltip');

/** Shows the tooltip near the pointer; lines is an array of [label, value] or strings. */
export function showTip(ev, lines) {
  const t = tip();
  if (!t) return;
  t.replaceChildren();
  lines.forEach((line, i) => {
    if (i) t.append(document.createElement('br'));
    if (Array.isArray(line)) {
      t.append(h('span', null, `${line[0]}: `), h('b', null, line[1]));
    } else {
      t.append(h('b', null, line));
    }
  });
  t.hidden = false;
  const pad = 14;
  const r = t.getBoundingClientRect();
  let x = ev.clientX + pad;
  let y = ev.clientY + pad;
  if (x + r.width > window.innerWidth - 4) x = ev.clientX - r.width - pad;
  if (y + r.height > window.innerHeight - 4) y = ev.clientY - r.height - pad;
  t.style.left = `${Math.max(4, x)}px`;
  t.style.top = `${Math.max(4, y)}px`;
}

/** Hides the tooltip. */
export function hideTip() {
  const t = tip();
  if (t) t.hidden = true;
}

/** A short message in the corner; kind is 'info' or 'error'. */
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const el = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  box.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

/** Calls fn at most once per `ms` after the last call. */
export function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

/** The empty state shown where a chart or a table has nothing to show. */
export function emptyState(title, ...more) {
  return h('div', { class: 'empty' }, h('strong', null, title), ...more);
}

/** The standard "nothing ingested" hint with a link to the upload page. */
export function noData(what = 'for this day') {
  return emptyState(`No data ${what}`, 'Ingest a capture on the ', h('a', { href: '#/captures' }, 'Captures'), ' page.');
}

/** An error box showing the API's {error, detail}. */
export function errorBox(err) {
  const code = err && err.code ? err.code : 'error';
  const detail = err && err.detail ? err.detail : String(err && err.message ? err.message : err);
  const hint = err && err.status === 401
    ? h('div', null, 'Open the address that ', h('code', null, 'trident serve'), ' printed at start (it ends in ', h('code', null, '?token=…'), ').')
    : null;
  return h('div', { class: 'error-box', role: 'alert' }, h('code', null, code), ' — ', detail, hint);
}

/** Builds a hash link: link('top', {field: 'dport'}) -> "#/top?field=dport". */
export function link(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return `#/${path}${qs ? `?${qs}` : ''}`;
}
