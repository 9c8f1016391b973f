// trident dashboard: a single-page app with hash routes (#/hosts?role=...), no framework.

import { h, mount, errorBox, hideTip, link } from './dom.js';
import { cached, clearCache } from './api.js';
import { overview } from './views/overview.js';
import { hosts } from './views/hosts.js';
import { host } from './views/host.js';
import { top, series, isn, parallel } from './views/potiron.js';
import { captures } from './views/captures.js';

const ROUTES = { '': overview, overview, hosts, host, top, series, isn, parallel, captures };

/** What every page shares: the sensor and day pickers. */
const state = {
  sensors: [],
  sensor: localStorage.getItem('trident.sensor') || '',
  day: localStorage.getItem('trident.day') || '',
  /** Every day with data for the selected sensor (all sensors when none), sorted. */
  days() {
    const set = new Set();
    for (const s of this.sensors) if (!this.sensor || s.sensor === this.sensor) for (const d of s.days) set.add(d);
    return [...set].sort();
  },
};

const sensorPicker = document.getElementById('sensor-picker');
const dayPicker = document.getElementById('day-picker');

function fillPickers() {
  if (state.sensor && !state.sensors.some((s) => s.sensor === state.sensor)) state.sensor = '';
  mount(sensorPicker,
    h('option', { value: '' }, 'all sensors'),
    state.sensors.map((s) => h('option', { value: s.sensor }, s.sensor)));
  sensorPicker.value = state.sensor;
  const days = state.days();
  if (!days.includes(state.day)) {
    // Default: the last day of the sensor with the most packets, where there is most to see.
    const pool = state.sensors.filter((s) => (!state.sensor || s.sensor === state.sensor) && s.days.length);
    const big = pool.reduce((a, b) => (!a || b.packets > a.packets ? b : a), null);
    state.day = big ? big.days[big.days.length - 1] : '';
  }
  if (days.length) mount(dayPicker, [...days].reverse().map((d) => h('option', { value: d }, d)));
  else mount(dayPicker, h('option', { value: '' }, 'no data'));
  dayPicker.value = state.day;
  dayPicker.disabled = !days.length;
}

/** Reloads the sensor list (after an upload or a delete) and refreshes the pickers. */
async function reloadSensors() {
  clearCache();
  try {
    state.sensors = await cached('sensors');
  } catch {
    state.sensors = [];
  }
  fillPickers();
}

/** Sets the selected day (a click on a day in a chart). */
function selectDay(day) {
  if (!state.days().includes(day)) return;
  state.day = day;
  localStorage.setItem('trident.day', day);
  dayPicker.value = day;
}

sensorPicker.addEventListener('change', () => {
  state.sensor = sensorPicker.value;
  localStorage.setItem('trident.sensor', state.sensor);
  fillPickers();
  render();
});
dayPicker.addEventListener('change', () => {
  state.day = dayPicker.value;
  localStorage.setItem('trident.day', state.day);
  render();
});

/** Parses the hash: "#/host/aa:bb?x=1" -> {name: 'host', rest: ['aa:bb'], params}. */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const segs = path.split('/').map((p) => decodeURIComponent(p));
  return { name: segs[0] || '', rest: segs.slice(1), params: new URLSearchParams(query) };
}

let generation = 0;

async function render() {
  const gen = ++generation;
  hideTip();
  const { name, rest, params } = parseHash();
  const view = ROUTES[name] ? ROUTES[name] : null;
  for (const a of document.querySelectorAll('#nav a')) {
    const r = a.dataset.route;
    a.classList.toggle('active', r === (name || 'overview') || (r === 'hosts' && name === 'host') || (r === 'top' && name === 'series'));
  }
  const main = document.getElementById('view');
  if (!view) {
    mount(main, h('div', { class: 'empty' }, h('strong', null, 'No such page'), h('a', { href: '#/' }, 'Back to the overview')));
    return;
  }
  const ctx = {
    state,
    params,
    rest,
    alive: () => gen === generation,
    reloadSensors,
    selectDay,
    /** Replaces the page's query parameters without re-rendering (filters, sorting). */
    setParams(p) {
      const url = link([name, ...rest.map(encodeURIComponent)].join('/'), p);
      history.replaceState(null, '', url);
    },
  };
  try {
    await view(main, ctx);
  } catch (e) {
    if (gen === generation) {
      mount(main,
        h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Could not load this page'), h('div', { class: 'sub' }, h('a', { href: '#/' }, '‹ Overview')))),
        errorBox(e));
    }
  }
  if (gen === generation) document.title = `trident · ${document.querySelector('#view h1')?.textContent || 'dashboard'}`;
}

window.addEventListener('hashchange', () => {
  render();
  document.getElementById('view').focus({ preventScroll: true });
  window.scrollTo(0, 0);
});

// Redraw colours when the system switches between light and dark.
window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => render());

(async function start() {
  const main = document.getElementById('view');
  // The server turned ?token= into a cookie when it served this page; keep the token out
  // of the address bar, the history and bookmarks.
  if (new URLSearchParams(location.search).has('token')) history.replaceState(null, '', `${location.pathname}${location.hash}`);
  try {
    state.sensors = await cached('sensors');
  } catch (e) {
    mount(main, errorBox(e));
    state.sensors = [];
  }
  fillPickers();
  await render();
})();
