// Connecting calendars and looking after them: status, last sync, errors, Sync now, Reconnect.

import {get, post, patch, del, describe} from './api.js';
import {h, field, replace, button, busy, notice} from './dom.js';

/** The providers connected through an OAuth consent page. */
export const OAUTH_PROVIDERS = ['google', 'microsoft', 'caldotcom'];

/** The provider's consent page, and back to this page with ?connected= (the cookie comes along). */
export async function startOAuth(provider) {
  const {authorization_url} = await get(`/api/auth/connect/${provider}`);
  location.assign(authorization_url);
}

const STATUS_WORDS = {
  idle: 'Up to date', queued: 'Waiting to sync', syncing: 'Syncing…', error: 'Sync failed',
};

function calendarCard(cal, ctx, rerender) {
  const problems = [];
  if (cal.connection_status === 'needs_reauth') problems.push('This connection needs you to sign in again: freeslot can no longer read it.');
  if (cal.connection_status === 'revoked') problems.push('Access to this account was revoked.');
  const status = cal.connection_status === 'needs_reauth' ? 'Needs reconnecting' : STATUS_WORDS[cal.sync_status] || cal.sync_status;
  const include = h('input', {type: 'checkbox', checked: cal.include_in_availability, onchange: async () => {
    try {
      await patch(`/api/calendars/${cal.id}`, {include_in_availability: include.checked});
      ctx.flash(`${cal.name} ${include.checked ? 'now counts' : 'no longer counts'} in your availability.`);
      await ctx.refreshCalendars();
    } catch (err) { include.checked = !include.checked; ctx.flash(describe(err), 'error'); }
  }});
  const color = h('input', {type: 'color', value: cal.color || '#5b7fa6', onchange: async () => {
    try { await patch(`/api/calendars/${cal.id}`, {color: color.value}); await ctx.refreshCalendars(); }
    catch (err) { ctx.flash(describe(err), 'error'); }
  }});
  const actions = [];
  if (cal.provider !== 'local') {
    const sync = button('Sync now', () => busy(sync, async () => {
      try { await post(`/api/calendars/${cal.id}/sync`); ctx.flash(`Syncing ${cal.name}…`); await ctx.refreshCalendars(); rerender(); }
      catch (err) { ctx.flash(describe(err), 'error'); }
    }));
    actions.push(sync);
    if (cal.connection_status === 'needs_reauth') {
      actions.push(button('Reconnect', async () => {
        if (OAUTH_PROVIDERS.includes(cal.provider)) {
          try { await startOAuth(cal.provider); } catch (err) { ctx.flash(describe(err), 'error'); }
        } else {
          document.getElementById('connect-other')?.scrollIntoView();
          ctx.flash('Enter the account’s password again under “Connect CalDAV” to reconnect it.');
        }
      }, {class: 'primary'}));
    }
    actions.push(button('Remove', async () => {
      if (!confirm(`Stop syncing “${cal.name}” and remove its events from freeslot?`)) return;
      try { await del(`/api/calendars/${cal.id}`); ctx.flash(`${cal.name} removed.`); await ctx.refreshCalendars(); rerender(); }
      catch (err) { ctx.flash(describe(err), 'error'); }
    }, {class: 'secondary', 'aria-label': `Remove ${cal.name}`}));
  }
  return h('li', {class: `calendar status-${cal.sync_status} conn-${cal.connection_status}`},
    h('div', {class: 'swatch-pick'}, field('Colour', color)),
    h('div', {class: 'cal-main'},
      h('h3', {}, cal.name),
      h('p', {class: 'meta'}, ctx.providerName(cal.provider), cal.account ? ` · ${cal.account}` : '',
        cal.timezone ? ` · ${cal.timezone}` : ''),
      h('p', {class: 'meta'},
        h('span', {class: `badge ${cal.connection_status === 'needs_reauth' || cal.sync_status === 'error' ? 'bad' : cal.sync_status === 'idle' ? 'good' : 'busy'}`}, status),
        cal.provider === 'local' ? ' Events you add in freeslot' : ` Last synced ${ctx.ago(cal.last_synced_at)}`),
      problems.map((p) => notice('error', p)),
      cal.last_error ? h('p', {class: 'error'}, `Last error: ${cal.last_error}`) : null,
      h('label', {class: 'check'}, include, ' Include in availability')),
    h('div', {class: 'cal-actions'}, actions));
}

function connectPanel(ctx, rerender) {
  const result = h('div', {'aria-live': 'polite'});
  const fail = (err) => replace(result, notice('error', describe(err)));
  const oauthButton = (provider) => {
    const enabled = provider === 'caldotcom' ? ctx.server.connect.caldotcom === 'oauth' : ctx.server.connect[provider];
    const b = button(`Connect ${ctx.providerName(provider)}`, () => busy(b, () => startOAuth(provider).catch(fail)),
      {class: `connect ${provider}`, disabled: !enabled});
    return h('div', {class: 'connect-option'}, b,
      enabled ? null : h('p', {class: 'hint'}, `${ctx.providerName(provider)} is not configured on this server.`));
  };

  const apiKey = h('input', {type: 'password', autocomplete: 'off'});
  const calcom = ctx.server.connect.caldotcom === 'oauth' ? oauthButton('caldotcom') :
    h('form', {class: 'connect-option', onsubmit: (e) => {
      e.preventDefault();
      busy(e.submitter, async () => {
        try { await post('/api/auth/connect/caldotcom', {api_key: apiKey.value}); apiKey.value = '';
          ctx.flash('Cal.com connected.'); await ctx.refreshCalendars(); rerender(); } catch (err) { fail(err); }
      });
    }}, field('API key', apiKey, 'From Cal.com: Settings → Developer → API keys.'), h('button', {type: 'submit'}, 'Connect Cal.com'));

  const url = h('input', {type: 'url', placeholder: 'https://… or webcal://…', inputmode: 'url'});
  const name = h('input', {type: 'text', placeholder: 'Holidays'});
  const ics = h('form', {class: 'connect-option', onsubmit: (e) => {
    e.preventDefault();
    busy(e.submitter, async () => {
      try {
        await post('/api/auth/connect/ics', {url: url.value.trim(), name: name.value.trim() || 'ICS feed'});
        url.value = ''; name.value = '';
        ctx.flash('Feed added. Its events appear after the first sync.');
        await ctx.refreshCalendars(); rerender();
      } catch (err) { fail(err); }
    });
  }}, field('Feed URL', url), field('Feed name', name), h('button', {type: 'submit'}, 'Add ICS feed'));

  const preset = h('select', {}, [['', 'Other CalDAV server'], ['icloud', 'iCloud'], ['fastmail', 'Fastmail'], ['nextcloud', 'Nextcloud']]
    .map(([v, t]) => h('option', {value: v}, t)));
  const server = h('input', {type: 'url', placeholder: 'https://dav.example.com/'});
  const user = h('input', {type: 'text', autocomplete: 'username'});
  const pass = h('input', {type: 'password', autocomplete: 'off'});
  const caldav = h('form', {class: 'connect-option', id: 'connect-other', onsubmit: (e) => {
    e.preventDefault();
    busy(e.submitter, async () => {
      try {
        const body = {preset: preset.value || null, username: user.value.trim(), password: pass.value};
        if (server.value.trim()) body.url = server.value.trim();
        await post('/api/auth/connect/caldav', body);
        pass.value = '';
        ctx.flash('CalDAV account connected.');
        await ctx.refreshCalendars(); rerender();
      } catch (err) { fail(err); }
    });
  }}, field('Server', preset), field('Server URL', server, 'Not needed for iCloud and Fastmail.'),
  field('Username', user), field('App password', pass, 'iCloud and Fastmail want an app-specific password.'),
  h('button', {type: 'submit'}, 'Connect CalDAV'));

  return h('section', {class: 'card connect', 'aria-labelledby': 'connect-title'},
    h('h2', {id: 'connect-title'}, 'Connect a calendar'), result,
    h('div', {class: 'connect-grid'},
      h('div', {class: 'connect-group'}, h('h3', {}, 'Google and Microsoft'), oauthButton('google'), oauthButton('microsoft')),
      h('div', {class: 'connect-group'}, h('h3', {}, 'Cal.com'), calcom),
      h('div', {class: 'connect-group'}, h('h3', {}, 'ICS feed'), ics),
      h('details', {class: 'connect-group'}, h('summary', {}, 'iCloud, Fastmail, Nextcloud (CalDAV)'), caldav)));
}

export async function showCalendars(main, ctx, current) {
  const list = h('div', {'aria-live': 'polite'});
  // Only the list is redrawn when a sync ends: what a person is typing into the connect forms
  // stays where it is.
  const render = () => {
    if (!current()) return;
    const cals = ctx.calendars;
    const providers = [...new Set(cals.map((c) => c.provider).filter((p) => p !== 'local'))];
    replace(list,
      cals.length === 0 || (cals.length === 1 && cals[0].provider === 'local')
        ? h('p', {class: 'empty'}, 'No calendars connected yet. Connect one below: freeslot reads it and keeps a copy in sync.')
        : h('ul', {class: 'calendars'}, cals.map((c) => calendarCard(c, ctx, render))),
      providers.length ? h('div', {class: 'disconnects'}, providers.map((p) => button(`Disconnect ${ctx.providerName(p)}`, async () => {
        if (!confirm(`Disconnect every ${ctx.providerName(p)} account, with its calendars and events?`)) return;
        try { await post(`/api/auth/disconnect/${p}`); ctx.flash(`${ctx.providerName(p)} disconnected.`); await ctx.refreshCalendars(); render(); }
        catch (err) { ctx.flash(describe(err), 'error'); }
      }, {class: 'secondary'}))) : null);
  };
  replace(main, h('h1', {}, 'Calendars'), list, connectPanel(ctx, render));
  ctx.onSynced = render;
  render();
}
