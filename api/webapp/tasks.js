// Tasks: what has to fit around the meetings. Each shows where the plan put it (or that it is at
// risk); a form adds one; Done completes it (a repeating one opens its next occurrence).

import {get, post, del, describe, ApiError} from './api.js';
import {h, field, fieldError, replace, button, busy, notice} from './dom.js';
import {spanText, dateTimeText, zonedInstant, iso} from './time.js';

const PRIORITIES = [['1', '1 – most urgent'], ['2', '2'], ['3', '3 – normal'], ['4', '4 – whenever']];
const minutesText = (m) => (m < 60 ? `${m} min` : m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m / 60} h`);

/** `YYYY-MM-DDTHH:MM` (a datetime-local value) in `tz` → an RFC 3339 instant; '' → null. */
export function instantOfLocal(value, tz) {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})$/.exec(value || '');
  return m ? iso(zonedInstant(m[1], Number(m[2]), Number(m[3]), tz)) : null;
}

function verdict(t, tz) {
  if (t.status === 'done') return h('p', {class: 'meta'}, `Done ${t.completed_at ? dateTimeText(Date.parse(t.completed_at), tz) : ''}.`);
  const planned = t.blocks.map((b) => spanText(Date.parse(b.start), Date.parse(b.end), tz));
  const lines = [];
  if (planned.length) lines.push(h('p', {}, `Planned: ${planned.join('; ')}`));
  if (t.at_risk) {
    lines.push(h('p', {class: 'error'}, t.unscheduled_minutes > 0
      ? `At risk: ${minutesText(t.unscheduled_minutes)} cannot be planned${t.due ? ' before it is due' : ' in the next 28 days'}.`
      : 'At risk: it can only be finished after it is due.'));
  } else if (!planned.length) {
    lines.push(h('p', {class: 'meta'}, 'Being planned…'));
  }
  return lines;
}

function taskForm(ctx, done) {
  const tz = ctx.me.timezone;
  const inputs = {
    title: h('input', {type: 'text', required: true, placeholder: 'Write proposal'}),
    duration_minutes: h('input', {type: 'number', min: 5, max: 10080, step: 5, value: 60}),
    due: h('input', {type: 'datetime-local'}),
    priority: h('select', {}, PRIORITIES.map(([v, t]) => h('option', {value: v, selected: v === '3'}, t))),
    min_chunk_minutes: h('input', {type: 'number', min: 5, step: 5, placeholder: 'whole'}),
    max_chunk_minutes: h('input', {type: 'number', min: 5, step: 5, placeholder: 'whole'}),
    tags: h('input', {type: 'text', placeholder: 'acme, writing'}),
    rrule: h('input', {type: 'text', placeholder: 'FREQ=WEEKLY;BYDAY=FR'}),
    notes: h('textarea', {rows: 2}),
  };
  const result = h('div', {'aria-live': 'polite'});
  const save = h('button', {type: 'submit'}, 'Add task');
  const number = (i) => (i.value === '' ? undefined : Number(i.value));
  return h('form', {novalidate: true, onsubmit: (e) => {
    e.preventDefault();
    busy(save, async () => {
      Object.values(inputs).forEach((i) => fieldError(i, null));
      replace(result);
      const body = {
        title: inputs.title.value.trim(),
        duration_minutes: number(inputs.duration_minutes),
        priority: Number(inputs.priority.value),
        tags: inputs.tags.value.split(',').map((t) => t.trim()).filter(Boolean),
      };
      const due = instantOfLocal(inputs.due.value, tz);
      if (due) body.due = due;
      if (number(inputs.min_chunk_minutes) !== undefined) body.min_chunk_minutes = number(inputs.min_chunk_minutes);
      if (number(inputs.max_chunk_minutes) !== undefined) body.max_chunk_minutes = number(inputs.max_chunk_minutes);
      if (inputs.rrule.value.trim()) body.rrule = inputs.rrule.value.trim();
      if (inputs.notes.value.trim()) body.notes = inputs.notes.value.trim();
      try {
        await post('/api/tasks', body);
        ctx.flash(`“${body.title}” added. It is planned into your free time in a moment.`);
        await done();
      } catch (err) {
        const input = err instanceof ApiError && inputs[err.field];
        if (input) fieldError(input, describe(err)); else replace(result, notice('error', describe(err)));
      }
    });
  }}, h('div', {class: 'grid-2'},
    field('Task', inputs.title),
    field('Duration (minutes)', inputs.duration_minutes),
    field('Due', inputs.due, `In your time zone (${tz}); leave empty for none.`),
    field('Priority', inputs.priority),
    field('Shortest piece (minutes)', inputs.min_chunk_minutes, 'Empty: in one piece.'),
    field('Longest piece (minutes)', inputs.max_chunk_minutes),
    field('Tags', inputs.tags, 'Separated by commas.'),
    field('Repeats (RRULE)', inputs.rrule, 'Optional, such as FREQ=WEEKLY;BYDAY=FR; needs a due.'),
    field('Notes', inputs.notes)),
  result, h('div', {class: 'actions'}, save));
}

export async function showTasks(main, ctx, current) {
  const tz = ctx.me.timezone;
  const status = h('select', {}, [['open', 'Open'], ['done', 'Done'], ['', 'All']].map(([v, t]) => h('option', {value: v}, t)));
  const search = h('input', {type: 'search', placeholder: 'Words in the title or notes'});
  const listSlot = h('div', {'aria-live': 'polite'});
  const render = async () => {
    const params = new URLSearchParams({limit: '500'});
    if (status.value) params.set('status', status.value);
    if (search.value.trim()) params.set('q', search.value.trim());
    const {tasks} = await get(`/api/tasks?${params}`);
    if (!current()) return;
    const items = tasks.map((t) => h('li', {class: `card task${t.at_risk ? ' at-risk' : ''}`},
      h('h2', {}, t.title),
      h('p', {class: 'meta'}, [minutesText(t.duration_minutes),
        t.due ? `due ${dateTimeText(Date.parse(t.due), tz)}` : 'no due date',
        `priority ${t.priority}`, t.rrule ? 'repeats' : null, t.tags.length ? t.tags.join(', ') : null]
        .filter(Boolean).join(' · ')),
      verdict(t, tz),
      t.status === 'open' ? h('div', {class: 'actions'},
        button('Done', async () => {
          try {
            const next = await post(`/api/tasks/${t.id}/complete`);
            ctx.flash(next.id !== t.id ? `Done. The next one is due ${dateTimeText(Date.parse(next.due), tz)}.` : `“${t.title}” done.`);
            await render();
          } catch (err) { ctx.flash(describe(err), 'error'); }
        }, {'aria-label': `Mark ${t.title} done`}),
        button('Delete', async () => {
          if (!confirm(`Delete the task “${t.title}”?`)) return;
          try { await del(`/api/tasks/${t.id}`); ctx.flash('Task deleted.'); await render(); } catch (err) { ctx.flash(describe(err), 'error'); }
        }, {class: 'secondary', 'aria-label': `Delete ${t.title}`})) : null));
    replace(listSlot, items.length ? h('ol', {class: 'tasks'}, items)
      : h('p', {class: 'empty'}, status.value === 'open' ? 'Nothing to do. Add a task below.' : 'No tasks here.'));
  };
  const filters = h('form', {class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); render(); }},
    field('Show', status), field('Search', search), h('button', {type: 'submit', class: 'secondary'}, 'Search'));
  status.addEventListener('change', render);
  replace(main, h('h1', {}, 'Tasks'),
    h('p', {class: 'meta'}, 'Work that has to fit around your meetings. freeslot plans each task into your free time, soonest due first, and warns when one can no longer be done in time.'),
    filters, listSlot,
    h('section', {class: 'card'}, h('h2', {}, 'Add a task'), taskForm(ctx, render)));
  await render();
  // A new plan (a sync moved a meeting) shows at once.
  ctx.onNotification = (n) => { if (n.type.startsWith('task.') || n.type === 'availability.changed') render().catch(() => {}); };
}
