// The shell: who is signed in, the sections, the server's clock, and one modest poll of the
// calendars that keeps every section current while syncs run.

import {get, post, session, describe, sentence} from './api.js';
import {h, replace, button} from './dom.js';
import {showAuth} from './auth.js';
import {showCalendars, startOAuth, OAUTH_PROVIDERS} from './calendars.js';
import {showWeek} from './week.js';
import {showConflicts} from './conflicts.js';
import {showHours} from './hours.js';
import {showPublish} from './publish.js';
import {showClients} from './clients.js';
import {follow, showNotifications, words} from './notifications.js';
import {showWebhooks} from './webhooks.js';
import {showTasks} from './tasks.js';
import {ago} from './time.js';

const SECTIONS = [
  ['week', 'Week', showWeek],
  ['tasks', 'Tasks', showTasks],
  ['calendars', 'Calendars', showCalendars],
  ['conflicts', 'Conflicts', showConflicts],
  ['hours', 'Working hours', showHours],
  ['publish', 'Publish', showPublish],
  ['clients', 'Clients', showClients],
  ['notifications', 'Notifications', showNotifications],
  ['webhooks', 'Webhooks', showWebhooks],
];

const main = document.getElementById('main');
const flashEl = document.getElementById('flash');
const progressEl = document.getElementById('sync-progress');

const ctx = {
  server: null,
  me: null,
  calendars: [],
  /** The server's "now": the machine's clock corrected by the server's answer at start-up. */
  now() { return Date.now() + (ctx.clockSkew || 0); },
  clockSkew: 0,
  flash,
  refreshCalendars,
  /** Called with the calendars after each poll that saw a sync finish. */
  onSynced: null,
  /** Called with each notification the live stream brings (the open section's own reaction). */
  onNotification: null,
};

let unfollow = null;
/** The live stream: a sync that ends or a connection that breaks shows at once, not at the next poll. */
function startFollowing() {
  if (unfollow) unfollow();
  unfollow = follow((n) => {
    // A broken connection is said at once; a failed sync shows on its calendar and in the list.
    if (n.type === 'connection.needs_reauth') flash(words(n, ctx), 'error');
    refreshCalendars();
    if (ctx.onNotification) ctx.onNotification(n);
  });
}
function stopFollowing() {
  if (unfollow) unfollow();
  unfollow = null;
}

function flash(text, kind = 'ok') {
  flashEl.className = `flash ${kind}`;
  replace(flashEl, h('span', {}, text), button('Dismiss', () => { flashEl.hidden = true; }, {class: 'link'}));
  flashEl.hidden = false;
}

const PROVIDERS = {google: 'Google', microsoft: 'Microsoft', caldotcom: 'Cal.com', ics: 'ICS feed', caldav: 'CalDAV'};
// Every code the OAuth callback sends back (`?error=`), in words.
const OAUTH_ERRORS = {
  access_denied: 'you declined access on the consent page',
  invalid_state: 'the connection link was opened in another browser or was already used; start again from Calendars',
  state_expired: 'the connection link expired (it lasts 10 minutes); start again from Calendars',
  invalid_request: 'the provider sent the browser back without what freeslot needs; start again from Calendars',
  invalid_grant: 'the provider did not accept the sign-in; start again from Calendars',
  provider_error: 'the provider reported an error; try again in a moment',
  token_exchange_failed: 'freeslot could not finish the sign-in with the provider; try again in a moment',
  insufficient_scope: 'access to the calendars was not granted; connect again and allow calendar access',
  discovery_failed: 'freeslot could not read the account’s list of calendars; try again in a moment',
  provider_disabled: 'this provider is not configured on this server',
  unknown_provider: 'freeslot does not know this provider',
  internal_error: 'something went wrong on the server; try again in a moment',
};

/** After an OAuth round trip the page is opened with ?connected= or ?error=: say what happened. */
function readOAuthOutcome() {
  const params = new URLSearchParams(location.search);
  const connected = params.get('connected');
  const error = params.get('error');
  if (!connected && !error) return;
  // Back where the connection was started, to see it or to try again.
  location.hash = '#/calendars';
  if (connected) {
    flash(`${PROVIDERS[connected] || connected} connected. Its calendars are syncing now.`);
  } else {
    const who = PROVIDERS[params.get('provider')] || 'The calendar';
    flash(`${who} was not connected: ${OAUTH_ERRORS[error] || `the provider answered “${error}”`}.`, 'error');
  }
  history.replaceState(null, '', `/${location.hash}`);
}

let pollTimer = null;
let lastSynced = '';

async function refreshCalendars() {
  try {
    const {calendars} = await get('/api/calendars');
    ctx.calendars = calendars;
  } catch (err) {
    if (err.status === 401) return;
    // Keep what we have; the next poll tries again.
  }
  const running = ctx.calendars.filter((c) => c.sync_status === 'queued' || c.sync_status === 'syncing');
  if (running.length) {
    const first = running.some((c) => !c.last_synced_at);
    progressEl.textContent = first
      ? `First sync running for ${running.length} calendar${running.length === 1 ? '' : 's'}: events appear as they arrive…`
      : `Syncing ${running.length} calendar${running.length === 1 ? '' : 's'}…`;
    progressEl.hidden = false;
  } else {
    progressEl.hidden = true;
  }
  showReauth(ctx.calendars.filter((c) => c.connection_status === 'needs_reauth'));
  const stamp = ctx.calendars.map((c) => `${c.id}:${c.last_synced_at}:${c.sync_status}`).join();
  if (stamp !== lastSynced) {
    const changed = lastSynced !== '';
    lastSynced = stamp;
    if (changed && ctx.onSynced) ctx.onSynced(ctx.calendars);
  }
  clearTimeout(pollTimer);
  // Modest: every 3 s while something syncs, else every 30 s.
  if (session.token) pollTimer = setTimeout(refreshCalendars, running.length ? 3000 : 30000);
  return ctx.calendars;
}

const reauthEl = document.getElementById('reauth');
/** One banner per broken connection, with the way to mend it, on every section. */
function showReauth(calendars) {
  const accounts = new Map();
  for (const c of calendars) accounts.set(`${c.provider} ${c.account}`, c);
  reauthEl.hidden = accounts.size === 0;
  replace(reauthEl, [...accounts.values()].map((c) => h('p', {},
    `${PROVIDERS[c.provider] || c.provider}${c.account ? ` (${c.account})` : ''} needs reconnecting: freeslot can no longer read its calendars, so your free time may be wrong. `,
    OAUTH_PROVIDERS.includes(c.provider)
      ? button('Reconnect', () => startOAuth(c.provider).catch((err) => flash(describe(err), 'error')), {class: 'primary'})
      : h('a', {href: '#/calendars'}, 'Reconnect under Calendars'))));
}

function renderNav(current) {
  const nav = document.getElementById('nav');
  replace(nav, h('ul', {}, SECTIONS.map(([key, label]) =>
    h('li', {}, h('a', {href: `#/${key}`, 'aria-current': key === current ? 'page' : null}, label)))));
  const who = document.getElementById('who');
  replace(who,
    h('span', {class: 'zone', title: 'Your time zone: every time on this page is in it'},
      `Time zone: ${ctx.me.timezone}`),
    h('span', {class: 'zone', title: 'Dates and times are written the way your browser’s language writes them'},
      `Formats: ${navigator.language}`),
    h('span', {class: 'name'}, ctx.me.name || ctx.me.email),
    button('Sign out', signOut, {class: 'secondary'}));
}

async function signOut() {
  try { await post('/api/auth/logout'); } catch { /* the token is dropped either way */ }
  session.clear();
  ctx.me = null;
  routeToken++; // a section still loading must not draw over the sign-in page
  clearTimeout(pollTimer);
  stopFollowing();
  flashEl.hidden = true;
  history.replaceState(null, '', '/');
  start('You are signed out.');
}

let routeToken = 0;
async function route() {
  if (!ctx.me) return;
  const key = (location.hash.match(/^#\/([a-z]+)/) || [])[1] || 'week';
  const section = SECTIONS.find(([k]) => k === key) || SECTIONS[0];
  renderNav(section[0]);
  const mine = ++routeToken;
  ctx.onSynced = null;
  ctx.onNotification = null;
  document.title = `${section[1]} · freeslot`;
  replace(main, h('p', {class: 'loading'}, 'Loading…'));
  try {
    await section[2](main, ctx, () => mine === routeToken);
  } catch (err) {
    if (mine === routeToken) replace(main, h('p', {class: 'error', role: 'alert'}, describe(err)));
  }
}

async function start(message) {
  try {
    ctx.server = await get('/api/server');
    ctx.clockSkew = Date.parse(ctx.server.now) - Date.now();
  } catch (err) {
    replace(main, h('p', {class: 'error', role: 'alert'}, describe(err)));
    return;
  }
  if (session.token) {
    try { ctx.me = await get('/api/me'); } catch { ctx.me = null; session.clear(); }
  }
  if (!ctx.me) {
    ctx.me = null;
    document.getElementById('top').hidden = true;
    progressEl.hidden = true;
    reauthEl.hidden = true;
    showAuth(main, ctx, signedIn, message);
    readOAuthOutcome();
    return;
  }
  document.getElementById('top').hidden = false;
  readOAuthOutcome();
  await refreshCalendars();
  startFollowing();
  await route();
}

function signedIn(token, note) {
  session.set(token);
  if (note) flash(note);
  start();
}

window.addEventListener('hashchange', route);
window.addEventListener('freeslot:signed-out', (e) => {
  ctx.me = null;
  clearTimeout(pollTimer);
  stopFollowing();
  start(sentence(`${e.detail.message} Sign in again`));
});

// For the sections: how long ago a calendar synced, against the server's clock.
ctx.ago = (iso) => (iso ? ago(Date.parse(iso), ctx.now()) : 'never');
ctx.providerName = (p) => PROVIDERS[p] || p;

start();
