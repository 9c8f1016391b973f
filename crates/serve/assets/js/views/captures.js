// #/captures — upload (picker or drag and drop, progress), ingestion progress, list, delete.

import { h, mount, errorBox, emptyState, toast } from '../dom.js';
import { get, del, post, upload } from '../api.js';
import { num, bytes, dateTime, pct } from '../fmt.js';

const POLL_MS = 700;

function statusCell(c) {
  const busy = c.status === 'queued' || c.status === 'ingesting';
  return h('span', null,
    h('span', { class: `status ${c.status}` }, c.status),
    busy ? [' ', h('progress', { max: 1, value: c.progress || 0, style: { width: '6rem' }, 'aria-label': 'ingestion progress' }), ` ${pct(c.progress || 0)}`] : null,
    c.error ? h('div', { class: 'more' }, c.error) : null);
}

/** Renders #/captures. */
export async function captures(view, ctx) {
  const listBox = h('div', { class: 'table-wrap' }, h('p', { class: 'loading' }, 'Loading…'));
  const uploads = h('div', { id: 'uploads' });
  const fileIn = h('input', { type: 'file', id: 'capture-file', multiple: true, accept: '.pcap,.pcapng,.cap,.gz,.zst,application/vnd.tcpdump.pcap', style: { display: 'none' } });
  const sensorIn = h('input', { type: 'text', name: 'sensor', placeholder: 'sensor (optional)', 'aria-label': 'Sensor name', value: ctx.state.sensor || '' });
  let timer = 0;

  const refresh = async () => {
    let list;
    try {
      list = await get('captures');
    } catch (e) {
      if (ctx.alive()) mount(listBox, errorBox(e));
      return [];
    }
    if (!ctx.alive()) return [];
    list.sort((a, b) => String(b.uploaded_at).localeCompare(String(a.uploaded_at)));
    if (!list.length) {
      mount(listBox, emptyState('No captures yet', 'Upload a pcap or pcapng file above; it is ingested in the background.'));
      return list;
    }
    mount(listBox, h('table', { id: 'captures-table' },
      h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Sensor'), h('th', { class: 'num' }, 'Size'), h('th', { class: 'num' }, 'Packets'),
        h('th', null, 'Status'), h('th', null, 'Uploaded (UTC)'), h('th', null, 'Ingested (UTC)'), h('th', null, ''))),
      h('tbody', null, list.map((c) => {
        const rm = h('button', { type: 'button', class: 'danger', 'data-action': 'delete' }, 'Delete');
        rm.addEventListener('click', async () => {
          if (rm.dataset.confirm !== 'yes') {
            rm.dataset.confirm = 'yes';
            rm.textContent = 'Really delete?';
            setTimeout(() => { rm.dataset.confirm = ''; rm.textContent = 'Delete'; }, 4000);
            return;
          }
          rm.disabled = true;
          try {
            await del(`captures/${encodeURIComponent(c.id)}`);
            toast(`Deleted ${c.name}`);
            await ctx.reloadSensors();
          } catch (e) {
            toast(`${e.code || 'error'}: ${e.detail || e.message}`, 'error');
          }
          refresh();
        });
        const cls = h('button', { type: 'button', disabled: c.status !== 'done' }, 'Classify');
        cls.addEventListener('click', async () => {
          cls.disabled = true;
          try {
            const preds = await post(`captures/${encodeURIComponent(c.id)}/classify`);
            toast(`Classified ${num(preds.length)} host${preds.length === 1 ? '' : 's'} of ${c.name}`);
          } catch (e) {
            toast(`${e.code || 'error'}: ${e.detail || e.message}`, 'error');
          }
          cls.disabled = false;
        });
        return h('tr', { 'data-id': c.id, 'data-status': c.status },
          h('td', null, h('span', { class: 'capture-name' }, c.name), c.sha256 ? h('div', { class: 'more mono', title: c.sha256 }, c.sha256.slice(0, 12)) : null),
          h('td', null, c.sensor || h('span', { class: 'more' }, '–')),
          h('td', { class: 'num' }, bytes(c.size)),
          h('td', { class: 'num' }, c.packets !== undefined && c.packets !== null ? num(c.packets) : '–'),
          h('td', null, statusCell(c)),
          h('td', null, dateTime(c.uploaded_at, { zone: false })),
          h('td', null, c.ingested_at ? dateTime(c.ingested_at, { zone: false }) : '–'),
          h('td', null, h('div', { class: 'controls' }, cls, rm)));
      }))));
    return list;
  };

  const poll = async () => {
    clearTimeout(timer);
    if (!ctx.alive()) return;
    const list = await refresh();
    if (ctx.alive() && list.some((c) => c.status === 'queued' || c.status === 'ingesting')) timer = setTimeout(poll, POLL_MS * 2);
  };

  /** Uploads one file, then follows its ingestion through GET /captures/{id}. */
  const send = async (file) => {
    const bar = h('progress', { max: 1, value: 0, 'aria-label': `upload of ${file.name}` });
    const state = h('span', { class: 'status queued' }, 'uploading 0%');
    const row = h('div', { class: 'upload-item' }, h('div', null, h('strong', null, file.name), h('div', { class: 'more' }, bytes(file.size))), bar, state);
    uploads.prepend(row);
    let cap;
    try {
      cap = await upload(file, { sensor: sensorIn.value.trim() }, (f) => {
        bar.value = f;
        state.textContent = `uploading ${pct(f)}`;
      });
    } catch (e) {
      state.className = 'status failed';
      state.textContent = 'upload failed';
      row.append(h('div', { style: { gridColumn: '1 / -1' } }, errorBox(e)));
      return;
    }
    bar.value = 0;
    refresh();
    // Ingestion progress.
    for (;;) {
      state.className = `status ${cap.status}`;
      state.textContent = cap.status === 'ingesting' ? `ingesting ${pct(cap.progress || 0)}` : cap.status;
      bar.value = cap.status === 'done' ? 1 : cap.progress || 0;
      if (!['queued', 'ingesting'].includes(cap.status)) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
      try {
        cap = await get(`captures/${encodeURIComponent(cap.id)}`);
      } catch (e) {
        row.append(h('div', { style: { gridColumn: '1 / -1' } }, errorBox(e)));
        return;
      }
    }
    if (cap.status === 'done') {
      toast(`${file.name}: ${num(cap.packets || 0)} packets ingested`);
      await ctx.reloadSensors();
    } else if (cap.status === 'failed') {
      row.append(h('div', { style: { gridColumn: '1 / -1' } }, errorBox({ code: 'failed', detail: cap.error || 'ingestion failed' })));
    } else if (cap.status === 'skipped') {
      state.textContent = 'skipped (already ingested)';
    }
    if (ctx.alive()) refresh();
  };

  const sendAll = (files) => { for (const f of files) send(f); };
  fileIn.addEventListener('change', () => { sendAll([...fileIn.files]); fileIn.value = ''; });

  const drop = h('div', { class: 'drop', id: 'drop-zone' },
    h('p', null, h('strong', null, 'Drop capture files here')),
    h('p', null, 'pcap or pcapng, optionally gzip- or zstd-compressed — or ',
      h('button', { type: 'button', class: 'primary', onclick: () => fileIn.click() }, 'choose files…')),
    h('p', { class: 'controls', style: { justifyContent: 'center' } }, h('label', null, 'Sensor ', sensorIn)),
    fileIn);
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer && e.dataTransfer.files.length) sendAll([...e.dataTransfer.files]);
  });

  mount(view,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Captures'), h('div', { class: 'sub' }, 'Upload captures to ingest them; delete one to remove its packets, flows and hosts.'))),
    h('div', { class: 'grid' },
      h('section', { class: 'card span-12' }, h('h2', null, 'Upload'), drop, uploads),
      h('section', { class: 'card span-12' }, h('div', { class: 'card-head' }, h('h2', null, 'Stored captures'), h('button', { type: 'button', onclick: poll }, 'Refresh')), listBox)));
  await poll();
}
