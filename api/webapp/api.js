// The one way the page talks to freeslot: the documented JSON API, with the access token held
// in sessionStorage (never localStorage, never a URL) so that it ends with the tab.

const KEY = 'freeslot.access_token';

export const session = {
  get token() { return sessionStorage.getItem(KEY); },
  set(token) { sessionStorage.setItem(KEY, token); },
  clear() { sessionStorage.removeItem(KEY); },
};

export class ApiError extends Error {
  constructor(status, code, message, field = null, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.retryAfter = retryAfter;
  }
}

/** Sends a request; resolves with the JSON body (null for 204), rejects with an ApiError. */
export async function api(method, path, body) {
  const headers = {Accept: 'application/json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  } catch {
    throw new ApiError(0, 'network', 'freeslot cannot be reached. Check your connection and try again.');
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { /* not JSON: described below by its status */ }
  if (res.ok) return data;
  const e = data && data.error;
  const retry = Number(res.headers.get('Retry-After')) || null;
  const err = new ApiError(res.status, e ? e.code : `http_${res.status}`,
    e ? e.message : `freeslot answered with status ${res.status}.`, e ? e.field || null : null, retry);
  if (res.status === 401 && token && path !== '/api/auth/login') {
    session.clear();
    window.dispatchEvent(new CustomEvent('freeslot:signed-out', {detail: err}));
  }
  throw err;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body ?? {});
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);

/** Every page of a paged list (`key` holds the items). */
export async function getAll(path, key) {
  const items = [];
  let token = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get(token ? `${path}${sep}page_token=${encodeURIComponent(token)}` : path);
    items.push(...page[key]);
    token = page.next_page_token;
  } while (token);
  return items;
}

/** An error in words for a person: never a JSON dump. */
export function describe(err) {
  if (!(err instanceof ApiError)) return 'Something went wrong in the page. Reload it and try again.';
  if (err.status === 503) return `freeslot is briefly unavailable (${sentence(err.message)}) Try again in a moment.`;
  if (err.status === 429 && err.retryAfter) {
    return `${sentence(err.message)} Wait ${waitWords(err.retryAfter)} before trying again.`;
  }
  if (err.status >= 500) return 'Something went wrong on the server. Try again in a moment.';
  return sentence(err.message);
}

export function waitWords(seconds) {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minutes`;
}

/** "email must look like…" → "Email must look like…." */
export function sentence(text) {
  const t = String(text || '').trim();
  if (!t) return '';
  const s = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}
