// Clashes between events, with the events side by side and a way to say "I know".

import {get, post, describe} from './api.js';
import {h, replace, button, busy, notice} from './dom.js';
import {spanText, dayText, addDays} from './time.js';

const KIND = {overlap: 'Overlap', buffer: 'Too close together'};
const SEVERITY = {high: 'High', medium: 'Medium', low: 'Low'};

function eventLine(e, ctx, tz) {
  const cal = ctx.calendars.find((c) => c.id === e.calendar_id);
  const when = e.all_day ? `${dayText(e.start_date)} – ${dayText(addDays(e.end_date, -1))}, all day`
    : spanText(Date.parse(e.start), Date.parse(e.end), tz);
  return h('li', {}, h('span', {class: 'swatch', style: {background: cal?.color || '#5b7fa6'}}),
    h('strong', {}, e.title || '(no title)'), ` · ${when}`, cal ? h('span', {class: 'meta'}, ` · ${cal.name}`) : null,
    e.status === 'tentative' ? h('span', {class: 'meta'}, ' · tentative') : null);
}

function blockLine(b, tz) {
  return h('li', {}, h('span', {class: 'swatch task-swatch'}),
    h('strong', {}, `Task “${b.title}”`), ` · ${spanText(Date.parse(b.start), Date.parse(b.end), tz)}`,
    h('span', {class: 'meta'}, b.at_risk ? ' · planned, at risk' : ' · planned'));
}

export async function showConflicts(main, ctx, current) {
  const tz = ctx.me.timezone;
  let status = 'open';
  const list = h('div', {'aria-live': 'polite'});
  const render = async () => {
    const {conflicts} = await get(`/api/conflicts?status=${status}`);
    if (!current()) return;
    if (!conflicts.length) {
      replace(list, h('p', {class: 'empty'}, status === 'open'
        ? 'No conflicts. Nothing in your calendars clashes.' : 'No resolved conflicts yet.'));
      return;
    }
    replace(list, h('ul', {class: 'conflicts'}, conflicts.map((c) => {
      const resolve = status === 'open' ? button('Resolve', () => busy(resolve, async () => {
        try { await post(`/api/conflicts/${c.id}/resolve`); ctx.flash('Conflict resolved.'); await render(); }
        catch (err) { ctx.flash(describe(err), 'error'); }
      })) : null;
      return h('li', {class: `card conflict-card severity-${c.severity}`},
        h('div', {class: 'conflict-head'},
          h('span', {class: `badge sev-${c.severity}`}, `${SEVERITY[c.severity]}`),
          h('h2', {}, `${KIND[c.kind] || c.kind}: ${spanText(Date.parse(c.start), Math.max(Date.parse(c.end), Date.parse(c.start) + 60000), tz)}`)),
        h('ul', {class: 'conflict-events'}, c.events.map((e) => eventLine(e, ctx, tz)),
          (c.task_blocks || []).map((b) => blockLine(b, tz))),
        c.status === 'resolved' ? h('p', {class: 'meta'}, c.resolution === 'auto'
          ? 'Resolved by itself: the events no longer clash.' : 'Resolved by you.') : null,
        resolve);
    })));
  };
  const tabs = h('div', {class: 'tabs', role: 'group', 'aria-label': 'Which conflicts'},
    ['open', 'resolved'].map((s) => button(s === 'open' ? 'Open' : 'Resolved', () => {
      status = s;
      tabs.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.status === s)));
      render().catch((err) => replace(list, notice('error', describe(err))));
    }, {dataset: {status: s}, 'aria-pressed': String(s === status), class: 'secondary'})));
  replace(main, h('h1', {}, 'Conflicts'),
    h('p', {class: 'meta'}, 'Events that overlap, or sit closer together than your buffers allow, across every calendar — and meetings over planned task time that counts as busy.'),
    tabs, list);
  ctx.onSynced = () => render().catch(() => {});
  await render();
}
