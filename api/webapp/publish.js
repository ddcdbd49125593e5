// Publishing availability: the Cal.com schedule as it will be sent, pushing it, the automatic
// export, and the private ICS feed links.

import {get, post, patch, describe} from './api.js';
import {h, replace, button, busy, notice} from './dom.js';
import {dayText} from './time.js';

const OUTCOME = {
  created: 'Sent: Cal.com now has a freeslot schedule.', updated: 'Sent: the Cal.com schedule is up to date.',
  unchanged: 'Nothing to send: Cal.com already has exactly this schedule.', queued: 'An export is running; it goes once more with the latest.',
};

function preview(schedule) {
  const overrides = new Map();
  for (const o of schedule.overrides) {
    if (!overrides.has(o.date)) overrides.set(o.date, []);
    overrides.get(o.date).push(o.startTime === '00:00' && o.endTime === '00:00' ? 'no free time' : `${o.startTime}–${o.endTime}`);
  }
  return h('div', {class: 'export-preview'},
    h('h3', {}, `Weekly hours (${schedule.timeZone})`),
    schedule.availability.length ? h('ul', {}, schedule.availability.map((a) => h('li', {}, `${a.days.join(', ')}: ${a.startTime}–${a.endTime}`)))
      : h('p', {class: 'empty'}, 'No weekly hours.'),
    h('h3', {}, 'Dates that differ'),
    overrides.size ? h('ul', {class: 'overrides'}, [...overrides].map(([date, spans]) =>
      h('li', {}, h('strong', {}, dayText(date)), `: ${spans.join(', ')}`)))
      : h('p', {class: 'empty'}, 'None: every day is free for its whole working hours.'));
}

export async function showPublish(main, ctx, current) {
  const [schedule, status, feeds] = await Promise.all([
    get('/api/availability/export'), get('/api/availability/export/calcom'), get('/api/feeds')]);
  if (!current()) return;
  const calcom = ctx.calendars.some((c) => c.provider === 'caldotcom');
  const pushResult = h('div', {'aria-live': 'polite'});
  const push = button('Push to Cal.com', () => busy(push, async () => {
    try {
      const r = await post('/api/availability/export/calcom');
      replace(pushResult, notice('ok', OUTCOME[r.status] || `Done (${r.status}).`));
    } catch (err) { replace(pushResult, notice('error', describe(err))); }
  }), {disabled: !calcom});
  const auto = h('input', {type: 'checkbox', checked: status.auto_export, disabled: !calcom, onchange: async () => {
    try {
      await patch('/api/availability/export/calcom', {auto_export: auto.checked});
      ctx.flash(auto.checked ? 'Automatic export is on: Cal.com follows every change.' : 'Automatic export is off.');
    } catch (err) { auto.checked = !auto.checked; ctx.flash(describe(err), 'error'); }
  }});

  const feedList = h('dl', {class: 'feeds'});
  const showFeeds = (urls) => replace(feedList,
    [['busy', 'Busy times only', 'Share this one: it says when you are busy, nothing else.'],
      ['full', 'Every event, with titles', 'Keep this one to yourself.']].map(([key, label, hint]) => {
      const input = h('input', {type: 'text', readonly: true, value: urls[key], id: `feed-${key}`, class: 'feed-url'});
      const copy = button('Copy', async () => {
        input.select();
        try { await navigator.clipboard.writeText(input.value); ctx.flash('Link copied.'); }
        catch { ctx.flash('Copy with Ctrl+C: the link is selected.'); }
      }, {class: 'secondary', 'aria-label': `Copy the ${label.toLowerCase()} link`});
      return [h('dt', {}, h('label', {for: input.id}, label)), h('dd', {}, h('div', {class: 'row'}, input, copy), h('p', {class: 'hint'}, hint))];
    }));
  showFeeds(feeds);
  const rotate = button('Rotate feed links', () => busy(rotate, async () => {
    if (!confirm('Replace both links? Anyone using the old ones stops getting updates.')) return;
    try { showFeeds(await post('/api/feeds/rotate')); ctx.flash('New feed links made; the old ones no longer work.'); }
    catch (err) { ctx.flash(describe(err), 'error'); }
  }), {class: 'secondary'});

  replace(main, h('h1', {}, 'Publish'),
    h('section', {class: 'card'}, h('h2', {}, 'Cal.com'),
      calcom ? null : notice('hint', 'Connect Cal.com under Calendars to send this schedule there.'),
      h('p', {class: 'meta'}, status.exported_at ? `Last sent ${ctx.ago(status.exported_at)}.` : 'Not sent yet.',
        status.last_error ? ` Last error: ${status.last_error}` : ''),
      preview(schedule),
      h('div', {class: 'actions'}, push, h('label', {class: 'check'}, auto, ' Export automatically')), pushResult),
    h('section', {class: 'card'}, h('h2', {}, 'ICS feeds'),
      h('p', {class: 'meta'}, 'Subscribe to these in any calendar app. The link is the password: rotate it if it leaked.'),
      feedList, h('div', {class: 'actions'}, rotate)));
}
