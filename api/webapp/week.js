// The week: days as columns on a time axis in the user's zone. Working hours shaded, free time in
// green, busy blocks in their calendar's colour, conflicts marked on both events. A day where the
// clocks change is as long as it really is (23 or 25 hours), with its own hour lines.

import {get, getAll, post, del, describe} from './api.js';
import {h, field, replace, button, busy, notice} from './dom.js';
import {piecesByDay, lanes, textOn} from './layout.js';
import {addDays, mondayOf, localDate, startOfDay, zonedInstant, dayMinutes, hourStarts, iso,
  timeText, clockText, dayText, spanText, parseDate, offsetMinutes} from './time.js';

const PX_PER_MINUTE = 0.7; // 42 px an hour
const MIN_BLOCK_MINUTES = 20; // shorter events are drawn this tall, so their title fits
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/** The rules' working windows over [from, to) (ms), read as the server reads them. */
export function workingWindows(rules, from, to) {
  const tz = rules.timezone;
  const off = new Set(rules.days_off || []);
  const out = [];
  for (let date = addDays(localDate(from, tz), -1); ; date = addDays(date, 1)) {
    if (startOfDay(date, tz) >= to) break;
    if (off.has(date)) continue;
    const {y, m, d} = parseDate(date);
    const weekday = WEEKDAYS[(new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7];
    for (const span of rules.weekly[weekday] || []) {
      const at = (hhmm) => {
        const [hh, mm] = hhmm.split(':').map(Number);
        return hh === 24 ? startOfDay(addDays(date, 1), tz) : zonedInstant(date, hh, mm, tz);
      };
      const s = Math.max(at(span.start), from);
      const e = Math.min(at(span.end), to);
      if (s < e) out.push({start: s, end: e});
    }
  }
  return out;
}

const minutesText = (m) => (m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m / 60} h`);

/** Draws the week from what the API said. Synchronous, so that its cost can be measured. */
export function drawWeek(data, tz, now, onSelect) {
  performance.mark('week-render-start');
  const {days, bounds, events, free, windows, conflicted, colours} = data;
  const taskPieces = piecesByDay(data.tasks || [], bounds);
  const timed = events.filter((e) => !e.all_day).map((e) => ({...e, start: Date.parse(e.start), end: Date.parse(e.end)}));
  const allDay = events.filter((e) => e.all_day);
  const eventPieces = piecesByDay(timed, bounds);
  const freePieces = piecesByDay(free, bounds);
  const workPieces = piecesByDay(windows, bounds);
  const lengths = days.map((d) => dayMinutes(d, tz));
  const longest = Math.max(...lengths);
  const today = localDate(now, tz);

  const axis = h('div', {class: 'axis', 'aria-hidden': 'true', style: {height: `${longest * PX_PER_MINUTE}px`}},
    Array.from({length: 24}, (_, i) => h('span', {style: {top: `${i * 60 * PX_PER_MINUTE}px`}}, `${String(i).padStart(2, '0')}:00`)));

  const columns = days.map((date, i) => {
    const len = lengths[i];
    const odd = len !== 1440;
    // On a day whose offset holds, the wall clock is minutes since midnight: no Intl call per
    // block (the cost of a busy week). A day where the clocks change asks Intl.
    const steady = len === 1440 && offsetMinutes(bounds[i], tz) === offsetMinutes(bounds[i + 1] - 1, tz);
    const dayName = dayText(date);
    const at = (minutes, ms) => (steady && minutes >= 0 && minutes <= 1440 ? clockText(Math.round(minutes)) : timeText(ms, tz));
    const col = h('div', {class: `day-col${date === today ? ' today' : ''}${odd ? ' dst' : ''}`,
      style: {height: `${len * PX_PER_MINUTE}px`}, role: 'list', 'aria-label': `${dayText(date)}${odd ? `, a ${len / 60}-hour day` : ''}`});
    for (const mark of hourStarts(date, tz)) {
      const top = (mark.at - bounds[i]) / 60000 * PX_PER_MINUTE;
      col.append(h('div', {class: 'hour-line', style: {top: `${top}px`}},
        odd ? h('span', {class: 'hour-label'}, `${String(mark.hour).padStart(2, '0')}:00`) : null));
    }
    for (const p of workPieces[i]) {
      col.append(h('div', {class: 'working', 'aria-hidden': 'true',
        style: {top: `${p.from * PX_PER_MINUTE}px`, height: `${(p.to - p.from) * PX_PER_MINUTE}px`}}));
    }
    for (const p of freePieces[i]) {
      const height = (p.to - p.from) * PX_PER_MINUTE;
      col.append(h('div', {class: 'free', role: 'listitem',
        style: {top: `${p.from * PX_PER_MINUTE}px`, height: `${height}px`}},
      height >= 16 ? h('span', {}, `Free ${at(p.from, p.item.start)}–${at(p.to, p.item.end)}`) : h('span', {class: 'sr-only'}, 'Free')));
    }
    for (const p of lanes(eventPieces[i], MIN_BLOCK_MINUTES)) {
      const e = p.item;
      const colour = colours.get(e.calendar_id) || '#5b7fa6';
      const clash = conflicted.has(e.id);
      const height = Math.max(p.to - p.from, MIN_BLOCK_MINUTES) * PX_PER_MINUTE;
      const inside = e.start >= bounds[i] && e.end <= bounds[i + 1];
      const startText = at(p.from, e.start);
      const endText = at(p.to, e.end);
      const when = inside ? `${dayName}, ${startText}–${endText}` : spanText(e.start, e.end, tz);
      const label = `${e.title || '(no title)'}, ${when}${clash ? ', conflict' : ''}${e.busy ? '' : ', not busy'}`;
      col.append(h('button', {type: 'button', role: 'listitem',
        class: `event${clash ? ' conflict' : ''}${e.busy ? '' : ' not-busy'}${e.status === 'tentative' ? ' tentative' : ''}`,
        'aria-label': label, title: label,
        style: {top: `${p.from * PX_PER_MINUTE}px`, height: `${height - 2}px`,
          left: `calc(${(p.lane / p.lanes) * 100}% + 2px)`, width: `calc(${100 / p.lanes}% - 4px)`,
          background: e.busy ? colour : '', borderColor: colour, color: e.busy ? textOn(colour) : ''},
        onclick: () => onSelect(e)},
      clash ? h('span', {class: 'clash'}, 'Conflict') : null,
      h('span', {class: 'title'}, e.title || '(no title)'),
      h('span', {class: 'when'}, `${startText}–${endText}`)));
    }
    // The plan's task blocks, under the events (a meeting booked over one shows on top).
    for (const p of taskPieces[i]) {
      const t = p.item;
      const height = Math.max(p.to - p.from, MIN_BLOCK_MINUTES) * PX_PER_MINUTE;
      const clash = data.clashingBlocks?.has(`${t.task_id}@${t.start}`);
      const label = `Task: ${t.title}, ${at(p.from, t.start)}–${at(p.to, t.end)}${t.at_risk ? ', at risk' : ''}${clash ? ', a meeting clashes with it' : ''}`;
      col.append(h('div', {class: `task-block${t.at_risk ? ' at-risk' : ''}${clash ? ' conflict' : ''}`, role: 'listitem', 'aria-label': label, title: label,
        style: {top: `${p.from * PX_PER_MINUTE}px`, height: `${height - 2}px`}},
      t.at_risk ? h('span', {class: 'clash'}, 'At risk') : null,
      clash ? h('span', {class: 'clash'}, 'Conflict') : null,
      h('span', {class: 'title'}, t.title),
      h('span', {class: 'when'}, `${at(p.from, t.start)}–${at(p.to, t.end)}`)));
    }
    if (date === today) {
      col.append(h('div', {class: 'now-line', 'aria-hidden': 'true', style: {top: `${(now - bounds[i]) / 60000 * PX_PER_MINUTE}px`}}));
    }
    return col;
  });

  const heads = days.map((date, i) => {
    const chips = allDay.filter((e) => e.start_date <= date && date < e.end_date).map((e) => {
      const colour = colours.get(e.calendar_id) || '#5b7fa6';
      return h('button', {type: 'button', class: `allday${conflicted.has(e.id) ? ' conflict' : ''}${e.busy ? '' : ' not-busy'}`,
        style: {background: e.busy ? colour : '', borderColor: colour, color: e.busy ? textOn(colour) : ''},
        onclick: () => onSelect(e)}, conflicted.has(e.id) ? 'Conflict: ' : '', e.title || '(no title)');
    });
    const len = lengths[i];
    return h('div', {class: `day-head${date === today ? ' today' : ''}`},
      h('span', {class: 'day-name'}, dayText(date)),
      len !== 1440 ? h('span', {class: 'badge busy'}, `${len / 60}-hour day`) : null,
      h('div', {class: 'alldays'}, chips));
  });

  const grid = h('div', {class: 'week-grid'},
    h('div', {class: 'corner'}), heads,
    axis, columns);
  performance.mark('week-render-end');
  const m = performance.measure('week-render', 'week-render-start', 'week-render-end');
  grid.dataset.renderMs = m.duration.toFixed(1);
  return grid;
}

async function loadWeek(ctx, monday) {
  const tz = ctx.me.timezone;
  const days = Array.from({length: 7}, (_, i) => addDays(monday, i));
  const bounds = [...days, addDays(monday, 7)].map((d) => startOfDay(d, tz));
  const range = `start=${encodeURIComponent(iso(bounds[0]))}&end=${encodeURIComponent(iso(bounds[7]))}`;
  const [events, explain, conflicts, rules, plan] = await Promise.all([
    getAll(`/api/events?${range}&limit=2500`, 'events'),
    get(`/api/availability/explain?${range}&timezone=${encodeURIComponent(tz)}`),
    get('/api/conflicts?status=open'),
    get('/api/availability/rules'),
    get(`/api/plan?${range}`),
  ]);
  const tasks = plan.blocks.map((b) => ({...b, start: Date.parse(b.start), end: Date.parse(b.end)}));
  const conflicted = new Set(conflicts.conflicts.flatMap((c) => c.event_ids));
  // Task blocks a meeting clashes with, by task and start.
  const clashingBlocks = new Set(conflicts.conflicts.flatMap((c) => (c.task_blocks || []).map((b) => `${b.task_id}@${Date.parse(b.start)}`)));
  const free = explain.intervals.filter((i) => i.state === 'free').map((i) => ({start: Date.parse(i.start), end: Date.parse(i.end)}));
  const colours = new Map(ctx.calendars.map((c) => [c.id, c.color || '#5b7fa6']));
  const windows = workingWindows(rules, bounds[0], bounds[7]);
  const events_ = events.filter((e) => e.status !== 'cancelled');
  return {days, bounds, events: events_, free, windows, conflicted, clashingBlocks, colours, conflicts: conflicts.conflicts, tasks};
}

function details(e, ctx, tz, reload) {
  const cal = ctx.calendars.find((c) => c.id === e.calendar_id);
  const start = Date.parse(e.start);
  const end = Date.parse(e.end);
  const when = e.all_day ? `${dayText(e.start_date)} – ${dayText(addDays(e.end_date, -1))} (all day)` : spanText(start, end, tz);
  const remove = e.provider === 'local' ? button(e.series_id ? 'Delete the whole series' : 'Delete event', async () => {
    try { await del(`/api/events/${encodeURIComponent(e.series_id || e.id)}`); ctx.flash(`“${e.title}” deleted.`); reload(); }
    catch (err) { ctx.flash(describe(err), 'error'); }
  }, {class: 'secondary'}) : null;
  return h('div', {class: 'card event-details', role: 'region', 'aria-label': 'Selected event'},
    h('h2', {}, e.title || '(no title)'),
    h('p', {}, when),
    h('p', {class: 'meta'}, cal ? `${cal.name} (${ctx.providerName(cal.provider)})` : '', ' · ',
      e.busy ? (e.status === 'tentative' ? 'Tentative' : 'Busy') : 'Does not block time',
      e.self_response ? ` · your answer: ${e.self_response.replace('_', ' ')}` : ''),
    e.location ? h('p', {}, `Where: ${e.location}`) : null,
    remove);
}

function slotFinder(ctx, tz) {
  const duration = h('input', {type: 'number', min: 5, max: 1440, step: 5, value: 60, inputmode: 'numeric'});
  const out = h('div', {'aria-live': 'polite'});
  const go = h('button', {type: 'submit'}, 'Find a slot');
  return h('form', {class: 'card finder', onsubmit: (e) => {
    e.preventDefault();
    busy(go, async () => {
      const now = ctx.now();
      const q = `start=${encodeURIComponent(iso(now))}&end=${encodeURIComponent(iso(now + 14 * 86400000))}` +
        `&duration=${encodeURIComponent(duration.value)}&timezone=${encodeURIComponent(tz)}`;
      try {
        const a = await get(`/api/availability?${q}`);
        const slots = a.slots.slice(0, 8);
        replace(out,
          a.complete ? null : notice('warn', 'Some calendars are not up to date, so a slot shown may not really be free.'),
          slots.length ? h('ol', {class: 'slots'}, slots.map((s) => h('li', {}, spanText(Date.parse(s.start), Date.parse(s.end), tz))))
            : h('p', {class: 'empty'}, `No free ${duration.value}-minute slot in the next 14 days.`));
      } catch (err) { replace(out, notice('error', describe(err))); }
    });
  }}, h('h2', {}, 'Find a slot'), h('div', {class: 'row'}, field('Duration (minutes)', duration), go), out);
}

function eventForm(ctx, tz, reload) {
  const title = h('input', {type: 'text', required: true});
  const date = h('input', {type: 'date', value: localDate(ctx.now(), tz), required: true});
  const start = h('input', {type: 'time', value: '09:00', required: true});
  const end = h('input', {type: 'time', value: '10:00', required: true});
  const out = h('div', {'aria-live': 'polite'});
  const add = h('button', {type: 'submit'}, 'Add event');
  return h('form', {class: 'card add-event', onsubmit: (e) => {
    e.preventDefault();
    busy(add, async () => {
      const at = (t) => { const [hh, mm] = t.split(':').map(Number); return zonedInstant(date.value, hh, mm, tz); };
      let s = at(start.value);
      let en = at(end.value);
      if (en <= s) en = zonedInstant(addDays(date.value, 1), ...end.value.split(':').map(Number), tz);
      try {
        await post('/api/events', {title: title.value, start: iso(s), end: iso(en), timezone: tz});
        title.value = '';
        replace(out);
        ctx.flash('Event added.');
        reload();
      } catch (err) { replace(out, notice('error', describe(err))); }
    });
  }}, h('h2', {}, 'Add an event'), h('div', {class: 'row'}, field('Title', title), field('Date', date),
    field('Start', start), field('End', end), add), out);
}

export async function showWeek(main, ctx, current) {
  const tz = ctx.me.timezone;
  ctx.weekStart ||= mondayOf(localDate(ctx.now(), tz));
  const picture = h('div', {class: 'week-scroll', tabindex: '0', 'aria-label': 'The week, scrollable'});
  const side = h('div', {class: 'week-side'});
  const heading = h('h1', {});
  const summary = h('p', {class: 'meta'});
  let selected = null;

  const reload = async () => {
    let data;
    try { data = await loadWeek(ctx, ctx.weekStart); } catch (err) {
      if (current()) replace(picture, notice('error', describe(err)));
      return;
    }
    if (!current()) return;
    const last = addDays(ctx.weekStart, 6);
    heading.textContent = `Week of ${dayText(ctx.weekStart)} – ${dayText(last)} ${parseDate(last).y}`;
    const freeMinutes = Math.round(data.free.reduce((n, f) => n + (f.end - f.start), 0) / 60000);
    const busyCount = data.events.filter((e) => e.busy).length;
    replace(summary, `${minutesText(freeMinutes)} free this week · ${busyCount} busy event${busyCount === 1 ? '' : 's'}`,
      data.conflicts.length ? ` · ${data.conflicts.length} open conflict${data.conflicts.length === 1 ? '' : 's'}` : '');
    const keepScroll = picture.scrollTop;
    const grid = drawWeek(data, tz, ctx.now(), (e) => { selected = e; replace(side, details(e, ctx, tz, reload)); side.scrollIntoView({block: 'nearest'}); });
    const empty = data.events.length === 0
      ? notice('empty', ctx.calendars.some((c) => c.provider !== 'local')
        ? 'No events this week.' : 'No events yet. Connect a calendar under Calendars, or add an event below.') : null;
    replace(picture, grid);
    // Style and layout are part of what a person waits for: force them now and measure both.
    void grid.offsetHeight;
    grid.dataset.layoutMs = performance.measure('week-render-layout', 'week-render-start').duration.toFixed(1);
    main.querySelector('.week-empty')?.replaceChildren(empty || '');
    picture.scrollTop = keepScroll || 8 * 60 * PX_PER_MINUTE - 10;
    if (selected && !data.events.some((e) => e.id === selected.id)) { selected = null; replace(side); }
  };
  const move = (weeks) => { ctx.weekStart = addDays(ctx.weekStart, 7 * weeks); replace(side); selected = null; reload(); };
  const nav = h('div', {class: 'week-nav', role: 'group', 'aria-label': 'Choose the week'},
    button('← Previous week', () => move(-1), {class: 'secondary'}),
    button('This week', () => { ctx.weekStart = mondayOf(localDate(ctx.now(), tz)); reload(); }, {class: 'secondary'}),
    button('Next week →', () => move(1), {class: 'secondary'}));
  const legend = h('p', {class: 'legend', 'aria-hidden': 'true'},
    h('span', {class: 'key key-working'}), 'Working hours ', h('span', {class: 'key key-free'}), 'Free ',
    h('span', {class: 'key key-conflict'}), 'Conflict ', h('span', {class: 'key key-task'}), 'Planned task');
  replace(main, h('div', {class: 'week-head'}, h('div', {}, heading, summary), nav), legend,
    h('div', {class: 'week-empty'}), picture, side,
    h('div', {class: 'week-tools'}, slotFinder(ctx, tz), eventForm(ctx, tz, reload)));
  ctx.onSynced = reload;
  await reload();
}
