// What freeslot told the user: the live stream that keeps the page current, and the list.

import {get, post, describe} from './api.js';
import {TYPES} from './webhooks.js';
import {h, replace, notice} from './dom.js';
import {dateTimeText} from './time.js';

/** A notification in words, for the list and for the page's own reaction to it. */
export function words(n, ctx) {
  const d = n.data || {};
  const cal = ctx.calendars.find((c) => c.id === d.calendar_id);
  const name = cal ? cal.name : 'A calendar';
  const count = (k, what) => (d[k] ? `${d[k]} ${what}` : null);
  switch (n.type) {
    case 'calendar.synced':
      return `${name} synced: ${[count('added', 'added'), count('updated', 'changed'), count('removed', 'removed')]
        .filter(Boolean).join(', ') || 'no changes'}.`;
    case 'calendar.sync_failed':
      return `${name} could not be synced (${d.consecutive_failures} time${d.consecutive_failures === 1 ? '' : 's'} in a row): ${d.error}`;
    case 'conflict.opened': {
      const c = d.conflict || {};
      const titles = (c.events || []).map((e) => `“${e.title || '(no title)'}”`).join(' and ');
      const when = c.start ? dateTimeText(Date.parse(c.start), ctx.me.timezone) : '';
      return `Conflict: ${titles || 'two events'} ${c.kind === 'buffer' ? 'are too close together' : 'overlap'}${when ? ` (${when})` : ''}.`;
    }
    case 'conflict.resolved':
      return d.resolution === 'auto' ? 'A conflict went away by itself: the events no longer clash.' : 'You resolved a conflict.';
    case 'export.pushed':
      return 'Your availability was sent to Cal.com.';
    case 'export.failed':
      return `Sending your availability to Cal.com failed: ${d.error}`;
    case 'connection.needs_reauth':
      return `${ctx.providerName(d.provider)} (${d.account}) needs reconnecting: freeslot can no longer read it.`;
    case 'availability.changed': {
      const tz = ctx.me.timezone;
      return `Your free time changed between ${dateTimeText(Date.parse(d.start), tz)} and ${dateTimeText(Date.parse(d.end), tz)}.`;
    }
    case 'task.reminder': {
      const t = d.task || {};
      return `Reminder: “${t.title}” is due ${t.due ? dateTimeText(Date.parse(t.due), ctx.me.timezone) : 'soon'}.`;
    }
    case 'task.at_risk': {
      const t = d.task || {};
      return `“${t.title}” is at risk: it can no longer all be done${t.due ? ` by ${dateTimeText(Date.parse(t.due), ctx.me.timezone)}` : ' in the next four weeks'}.`;
    }
    case 'webhook.disabled':
      return `A webhook endpoint was turned off: ${d.reason}. Turn it on again under Webhooks once its receiver works.`;
    default:
      return `${n.type.replace(/[._]/g, ' ')}.`;
  }
}

/**
 * Follows `/api/notifications/stream` with a single-use ticket (EventSource cannot send the
 * token), calling `onNotification` for each one. Reconnects after errors with a new ticket,
 * resuming after the last id seen, so nothing is missed. Returns a function that stops it.
 */
export function follow(onNotification) {
  let source = null;
  let last = null;
  let stopped = false;
  let retry = null;
  const open = async () => {
    if (stopped) return;
    try {
      const {ticket} = await post('/api/notifications/ticket');
      const after = last ? `&after=${encodeURIComponent(last)}` : '';
      source = new EventSource(`/api/notifications/stream?ticket=${encodeURIComponent(ticket)}${after}`);
      const handle = (e) => {
        last = e.lastEventId || last;
        try { onNotification(JSON.parse(e.data)); } catch { /* one bad message never stops the stream */ }
      };
      for (const [type] of TYPES) source.addEventListener(type, handle);
      // The ticket was used: an error means a new ticket, a little later.
      source.onerror = () => { source.close(); retry = setTimeout(open, 5000); };
    } catch {
      retry = setTimeout(open, 15000);
    }
  };
  open();
  return () => { stopped = true; clearTimeout(retry); if (source) source.close(); };
}

/** The newest `count` notifications (the feed runs oldest first: read it to its end). */
async function newestNotifications(count) {
  let kept = [];
  let after = '0';
  for (;;) {
    const page = await get(`/api/notifications?limit=1000&after=${encodeURIComponent(after)}`);
    kept = kept.concat(page.notifications).slice(-count);
    if (!page.next_after) return kept.reverse();
    after = page.next_after;
  }
}

export async function showNotifications(main, ctx, current) {
  const newest = await newestNotifications(200);
  if (!current()) return;
  replace(main, h('h1', {}, 'Notifications'),
    h('p', {class: 'meta'}, 'What freeslot noticed about your calendars, newest first. The page also updates by itself as they arrive.'),
    newest.length
      ? h('ol', {class: 'notifications'}, newest.map((n) => h('li', {class: `card note-${n.type.replace('.', '-')}`},
        h('p', {}, words(n, ctx)), h('p', {class: 'meta'}, dateTimeText(Date.parse(n.created_at), ctx.me.timezone)))))
      : notice('empty', 'Nothing yet. When a calendar syncs, fails or needs you, it shows here.'));
  ctx.onNotification = () => showNotifications(main, ctx, current).catch((err) => replace(main, notice('error', describe(err))));
}
