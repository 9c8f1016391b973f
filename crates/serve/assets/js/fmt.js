// Number, byte and time formatting. Times are shown in UTC, as the API gives them.

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const dec1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const dec2 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** 1234567 -> "1,234,567". */
export function num(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  return Math.abs(n) < 10 && !Number.isInteger(n) ? dec2.format(n) : intFmt.format(n);
}

/** Compact form for axis ticks: 1.2k, 3.4M, 4.29G. */
export function compact(n) {
  const a = Math.abs(n);
  if (a >= 1e12) return `${dec1.format(n / 1e12)}T`;
  if (a >= 1e9) return `${dec2.format(n / 1e9)}G`;
  if (a >= 1e6) return `${dec1.format(n / 1e6)}M`;
  if (a >= 1e4) return `${dec1.format(n / 1e3)}k`;
  return dec2.format(n);
}

/** Bytes in SI units: "12.3 MB". */
export function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? intFmt.format(v) : dec1.format(v)} ${units[i]}`;
}

/** 0.8731 -> "87%". */
export function pct(p) {
  if (p === null || p === undefined) return '–';
  return `${dec1.format(p * 100)}%`;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** A Date or RFC 3339 string -> "2014-08-01 12:00:03 UTC". */
export function dateTime(t, { seconds = true, zone = true } = {}) {
  if (!t) return '–';
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  const s = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}${seconds ? `:${pad(d.getUTCSeconds())}` : ''}`;
  return zone ? `${s} UTC` : s;
}

/** Milliseconds since the epoch -> "12:00:03.250" (UTC). */
export function clock(ms, withMs = false) {
  const d = new Date(ms);
  const base = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return withMs ? `${base}.${pad(d.getUTCMilliseconds(), 3)}` : base;
}

/** "2014-08-01" -> "2014-08". */
export const monthOf = (day) => (day ? day.slice(0, 7) : '');

/** A duration in seconds -> "1 min", "2 h", "15 s". */
export function duration(sec) {
  if (sec >= 86400 && sec % 86400 === 0) return `${sec / 86400} d`;
  if (sec >= 3600 && sec % 3600 === 0) return `${sec / 3600} h`;
  if (sec >= 60 && sec % 60 === 0) return `${sec / 60} min`;
  if (sec >= 1) return `${dec1.format(sec)} s`;
  return `${dec1.format(sec * 1000)} ms`;
}

/** A probability/confidence as a short label. */
export const conf = (c) => (c === null || c === undefined ? '–' : pct(c));
