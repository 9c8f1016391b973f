// Same-origin JSON calls to /api/v1. Credentials ride along as the cookie the server set
// when the page was first opened with ?token=.

/** An API error: the server's {error, detail} with the HTTP status. */
export class ApiError extends Error {
  constructor(status, code, detail) {
    super(`${code}: ${detail}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

/** Builds /api/v1/<path>?<params>, leaving out empty parameters. */
export function url(path, params) {
  const u = new URL(`/api/v1/${path.replace(/^\//, '')}`, location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '' && v !== false) u.searchParams.set(k, String(v));
  }
  return u.pathname + u.search;
}

async function fail(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(
    res.status,
    (body && body.error) || `http_${res.status}`,
    (body && body.detail) || res.statusText || 'request failed',
  );
}

async function call(method, path, params, init = {}) {
  let res;
  try {
    res = await fetch(url(path, params), {
      method,
      credentials: 'same-origin',
      headers: { Accept: 'application/json', ...(init.headers || {}) },
      body: init.body,
      signal: init.signal,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', `the server did not answer (${e.message})`);
  }
  if (!res.ok) throw await fail(res);
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

/** GET a JSON document. */
export const get = (path, params, init) => call('GET', path, params, init);
/** POST with no body (actions). */
export const post = (path, params, init) => call('POST', path, params, init);
/** DELETE a resource. */
export const del = (path, params) => call('DELETE', path, params);

const cache = new Map();
/** GET once per page load (sensors, fields). */
export function cached(path, params) {
  const key = url(path, params);
  if (!cache.has(key)) {
    cache.set(key, get(path, params).catch((e) => {
      cache.delete(key);
      throw e;
    }));
  }
  return cache.get(key);
}
/** Forgets cached answers (after an upload or a delete). */
export const clearCache = () => cache.clear();

/**
 * Uploads a file with XMLHttpRequest, the one browser API that reports upload progress.
 * onProgress(fraction) runs while the bytes go out. Resolves with the Capture.
 */
export function upload(file, params, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url('captures', { name: file.name, ...params }));
    xhr.withCredentials = true;
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, (body && body.error) || `http_${xhr.status}`, (body && body.detail) || xhr.statusText));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'the upload was interrupted'));
    xhr.send(file);
  });
}
