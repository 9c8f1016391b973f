// Drives the trident dashboard in Debian's headless Chromium through playwright-core.
//
//   node run.mjs <base url> <screenshot dir> <capture file to upload>
//
// Loads the overview, filters the hosts table, opens a host, clicks a bubble through to its
// daily series and a day back to that day's bubbles, shows the ISN scatter and the parallel
// coordinates, uploads a capture, waits for it to be ingested and classifies one of its
// hosts, then checks dark mode, a phone-sized screen and an API error. Saves a
// PNG of every page. Fails on any console error, page error, failed request or HTTP error.
// Run by crates/cli/tests/browser.rs; exits non-zero on the first failure.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [base, shots, uploadFile] = process.argv.slice(2);
if (!base || !shots || !uploadFile) {
  console.error('usage: node run.mjs <base url> <screenshot dir> <capture file to upload>');
  process.exit(2);
}
const CHROMIUM = process.env.TRIDENT_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(CHROMIUM)) {
  console.error(`FAIL: no Chromium at ${CHROMIUM}; install Debian's chromium (.ci/setup.d/20-browser.sh)`);
  process.exit(3);
}
let chromium;
try {
  const require = createRequire(import.meta.url);
  ({ chromium } = require('playwright-core'));
} catch (e) {
  console.error(`FAIL: playwright-core is not installed; run \`npm ci\` in ${path.dirname(new URL(import.meta.url).pathname)} (.ci/setup.d/20-browser.sh): ${e.message}`);
  process.exit(3);
}
fs.mkdirSync(shots, { recursive: true });
for (const f of fs.readdirSync(shots)) if (f.endsWith('.png')) fs.rmSync(path.join(shots, f));

const problems = [];
let passed = 0;
let failed = 0;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic', '--disable-default-apps', '--disable-extensions'],
});

function watch(page, tag) {
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`[${tag}] console error: ${msg.text()} (${msg.location().url || 'page'})`);
  });
  page.on('pageerror', (err) => problems.push(`[${tag}] page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`[${tag}] request failed: ${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`[${tag}] HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
  });
}

async function shot(page, name) {
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

async function step(name, page, fn) {
  const before = problems.length;
  try {
    await fn();
    if (problems.length > before) throw new Error(problems.slice(before).join('\n    '));
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}\n    ${String(e.message || e).split('\n').join('\n    ')}`);
    try {
      await shot(page, `FAILED-${name.replace(/[^a-z0-9]+/gi, '-')}`);
    } catch {
      // the page may be gone
    }
  }
}

const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, deviceScaleFactor: 1, colorScheme: 'light' });
context.setDefaultTimeout(20000);
const page = await context.newPage();
watch(page, 'light');

const waitView = (sel) => page.waitForSelector(`#view ${sel}`, { state: 'visible' });
// Charts lay themselves out on the next animation frame.
const settle = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

await step('overview loads with tiles, top lists and the traffic chart', page, async () => {
  await page.goto(base, { waitUntil: 'load' });
  await waitView('.tiles');
  await waitView('.chart svg path.line');
  const tiles = await page.$$eval('.tile .value', (els) => els.map((e) => e.textContent));
  if (tiles.length < 5) throw new Error(`expected 5 tiles, got ${tiles.length}`);
  if (tiles[0] === '0') throw new Error('the overview shows 0 packets');
  const talkers = await page.$$eval('.bars li', (els) => els.length);
  if (!talkers) throw new Error('no top-talker bars');
  await settle();
  await shot(page, '01-overview');
});

await step('hosts table loads, sorts and filters', page, async () => {
  await page.goto(`${base}#/hosts`);
  await waitView('#hosts-table tbody tr');
  await shot(page, '02-hosts');
  const before = await page.$$eval('#hosts-table tbody tr', (rows) => rows.length);
  // Sort by packets (click the header), then filter by the first row's first address.
  await page.click('#hosts-table th:has-text("Packets")');
  await page.waitForFunction(() => document.querySelector('#hosts-table th[aria-sort="descending"]')?.textContent === 'Packets');
  const ip = await page.$eval('#hosts-table tbody tr td.mono span', (el) => el.textContent);
  await page.fill('input[name=q]', ip);
  await page.waitForFunction((want) => {
    const rows = [...document.querySelectorAll('#hosts-table tbody tr')];
    return rows.length > 0 && rows.every((r) => r.textContent.includes(want)) && location.hash.includes('q=');
  }, ip);
  const after = await page.$$eval('#hosts-table tbody tr', (rows) => rows.length);
  console.log(`    ${before} rows, ${after} after filtering on ${ip}`);
  await shot(page, '03-hosts-filtered');
});

await step('host page shows inventory, role, traffic and flows', page, async () => {
  await page.click('#hosts-table tbody tr a');
  await page.waitForURL(/#\/host\//);
  await waitView('dl.kv');
  await waitView('#flows-table tbody tr');
  await waitView('.chart svg path.line');
  await settle();
  await shot(page, '04-host');
});

await step('bubble chart of top dport values; a bubble opens its daily series; a day opens its bubbles', page, async () => {
  await page.goto(`${base}#/top?field=dport`);
  await waitView('.bubble-g');
  await settle();
  await shot(page, '05-top-bubbles');
  const value = await page.$eval('.bubble-g', (g) => g.dataset.value);
  await page.click('.bubble-g circle');
  await page.waitForURL(/#\/series\?/);
  await page.waitForSelector('#view .chart rect.bar', { state: 'attached' });
  const tall = await page.$$eval('#view .chart rect.bar', (bars) => bars.filter((b) => Number(b.getAttribute('height')) > 0).length);
  if (!tall) throw new Error('every day of the series is empty');
  const h1 = await page.textContent('#view h1');
  if (!h1.includes(value)) throw new Error(`series page is for "${h1}", not ${value}`);
  await settle();
  await shot(page, '06-series');
  // The tallest bar: a day that has this value.
  const day = await page.$$eval('.chart rect.bar', (bars) => bars.reduce((a, b) => (Number(b.getAttribute('height')) > Number(a.getAttribute('height')) ? b : a)).dataset.label);
  await page.click(`.chart rect.bar[data-label="${day}"]`, { force: true });
  await page.waitForURL(new RegExp(`#/top\\?.*day=${day}`));
  await waitView('.bubble-g');
  const values = await page.$$eval('.bubble-g', (gs) => gs.map((g) => g.dataset.value));
  if (!values.includes(value)) throw new Error(`${day}'s bubbles do not include ${value}`);
  await settle();
  await shot(page, '07-top-day');
});

await step('TCP ISN scatter with a port legend', page, async () => {
  await page.goto(`${base}#/isn`);
  await waitView('.legend button');
  await waitView('.chart circle.dot');
  const dots = await page.$$eval('.chart circle.dot', (d) => d.length);
  await page.click('.legend button');
  await page.waitForFunction((n) => document.querySelectorAll('.chart circle.dot').length < n, dots);
  await page.click('.legend button');
  await settle();
  await shot(page, '08-isn');
});

await step('parallel coordinates of daily top values', page, async () => {
  await page.goto(`${base}#/parallel`);
  await waitView('.chart .pc-line');
  await page.hover('.legend button');
  await settle();
  await shot(page, '09-parallel');
});

await step('upload a capture and watch it ingested in the list', page, async () => {
  await page.goto(`${base}#/captures`);
  await waitView('#captures-table, .card .empty');
  const name = path.basename(uploadFile);
  await page.setInputFiles('#capture-file', uploadFile);
  await page.waitForSelector('#uploads progress');
  await page.waitForFunction((n) => [...document.querySelectorAll('#captures-table tbody tr[data-status="done"] .capture-name')].some((e) => e.textContent === n), name, { timeout: 60000 });
  await settle();
  await shot(page, '10-captures');
});

await step('classify now, on a host of the uploaded capture', page, async () => {
  // Only hosts of a capture the server keeps can be classified on demand: pick the
  // uploaded capture's sensor in the header, then its first host.
  const name = path.basename(uploadFile);
  const sensor = await page.$$eval('#captures-table tbody tr', (rows, n) => {
    const row = rows.find((r) => r.dataset.status === 'done' && r.querySelector('.capture-name')?.textContent === n);
    return row ? row.children[1].textContent : null;
  }, name);
  if (!sensor || sensor === '–') throw new Error(`no sensor for ${name} in the captures table`);
  await page.waitForFunction((s) => [...document.querySelectorAll('#sensor-picker option')].some((o) => o.value === s), sensor);
  await page.selectOption('#sensor-picker', sensor);
  await page.goto(`${base}#/hosts`);
  await waitView('#hosts-table tbody tr a');
  await page.click('#hosts-table tbody tr a');
  await page.waitForURL(/#\/host\//);
  await waitView('dl.kv');
  const before = await page.$$eval('#predictions-table tbody tr', (r) => r.length);
  await page.click('#classify-now');
  await page.waitForFunction((n) => document.querySelectorAll('#predictions-table tbody tr').length > n, before, { timeout: 60000 });
  await settle();
  await shot(page, '11-host-classified');
  await page.selectOption('#sensor-picker', '');
});

await step('overview in dark mode', page, async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(`${base}#/`);
  await waitView('.chart svg path.line');
  await settle();
  await shot(page, '12-overview-dark');
  await page.emulateMedia({ colorScheme: 'light' });
});

await step('narrow screen (phone) layout', page, async () => {
  await page.setViewportSize({ width: 420, height: 900 });
  await page.goto(`${base}#/hosts`);
  await waitView('#hosts-table tbody tr');
  await shot(page, '13-hosts-narrow');
  await page.setViewportSize({ width: 1366, height: 900 });
});

await step('an API error is shown to the user', page, async () => {
  // A host that does not exist: the page shows the API's {error, detail}. This step's own
  // 404 and console message are expected, so they are dropped from the problem list.
  const mark = problems.length;
  await page.goto(`${base}#/host/${encodeURIComponent('no-such-host')}`);
  await waitView('.error-box');
  const text = await page.textContent('#view .error-box');
  if (!text.includes('not_found')) throw new Error(`error box says "${text}"`);
  await shot(page, '14-error');
  await page.waitForTimeout(200);
  problems.splice(mark);
});

await browser.close();
console.log(`screenshots in ${shots}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
