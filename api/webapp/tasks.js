// Tasks: what has to fit around the meetings. Each shows where the plan put it (or that it is at
// risk); a form adds one; Done completes it (a repeating one opens its next occurrence).

import {get, post, patch, del, describe, ApiError} from './api.js';
import {h, field, fieldError, replace, button, busy, notice} from './dom.js';
import {spanText, dateTimeText, zonedInstant, iso, wallClock} from './time.js';

const PRIORITIES = [['1', '1 – most urgent'], ['2', '2'], ['3', '3 – normal'], ['4', '4 – whenever']];
const minutesText = (m) => (m < 60 ? `${m} min` : m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m / 60} h`);

/** `YYYY-MM-DDTHH:MM` (a datetime-local value) in `tz` → an RFC 3339 instant; '' → null. */
export function instantOfLocal(value, tz) {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})$/.exec(value || '');
  return m ? iso(zonedInstant(m[1], Number(m[2]), Number(m[3]), tz)) : null;
}

/** An RFC 3339 instant → the `YYYY-MM-DDTHH:MM` of a datetime-local input in `tz`. */
export function localOfInstant(value, tz) {
  if (!value) return '';
  const w = wallClock(Date.parse(value), tz);
  const two = (n) => String(n).padStart(2, '0');
  return `${w.year}-${two(w.month)}-${two(w.day)}T${two(w.hour)}:${two(w.minute)}`;
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

/** The form that adds a task, or (with `task`) changes one. */
function taskForm(ctx, task, done) {
  const tz = ctx.me.timezone;
  const chunk = (v) => (task && v !== task.duration_minutes ? v : '');
  const inputs = {
    title: h('input', {type: 'text', required: true, placeholder: 'Write proposal', value: task?.title || ''}),
    duration_minutes: h('input', {type: 'number', min: 5, max: 10080, step: 5, value: task?.duration_minutes || 60}),
    due: h('input', {type: 'datetime-local', value: localOfInstant(task?.due, tz)}),
    priority: h('select', {}, PRIORITIES.map(([v, t]) => h('option', {value: v, selected: v === String(task?.priority || 3)}, t))),
    min_chunk_minutes: h('input', {type: 'number', min: 5, step: 5, placeholder: 'whole', value: chunk(task?.min_chunk_minutes)}),
    max_chunk_minutes: h('input', {type: 'number', min: 5, step: 5, placeholder: 'whole', value: chunk(task?.max_chunk_minutes)}),
    tags: h('input', {type: 'text', placeholder: 'acme, writing', value: (task?.tags || []).join(', ')}),
    rrule: h('input', {type: 'text', placeholder: 'FREQ=WEEKLY;BYDAY=FR', value: task?.rrule || ''}),
    notes: h('textarea', {rows: 2}, task?.notes || ''),
  };
  const result = h('div', {'aria-live': 'polite'});
  const save = h('button', {type: 'submit'}, task ? 'Save task' : 'Add task');
  const number = (i) => (i.value === '' ? null : Number(i.value));
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
        due: instantOfLocal(inputs.due.value, tz),
        min_chunk_minutes: number(inputs.min_chunk_minutes),
        max_chunk_minutes: number(inputs.max_chunk_minutes),
        rrule: inputs.rrule.value.trim() || null,
        notes: inputs.notes.value.trim() || null,
      };
      try {
        if (task) {
          await patch(`/api/tasks/${task.id}`, body);
          ctx.flash(`“${body.title}” saved. Its place in the plan follows in a moment.`);
        } else {
          await post('/api/tasks', body);
          ctx.flash(`“${body.title}” added. It is planned into your free time in a moment.`);
        }
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
  result, h('div', {class: 'actions'}, save, task ? button('Cancel', done, {class: 'secondary'}) : null));
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
    const items = tasks.map((t) => {
      const card = h('li', {class: `card task${t.at_risk ? ' at-risk' : ''}`});
      return replace(card,
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
        button('Edit', () => replace(card, taskForm(ctx, t, render)), {class: 'secondary', 'aria-label': `Edit ${t.title}`}),
        button('Delete', async () => {
          if (!confirm(`Delete the task “${t.title}”?`)) return;
          try { await del(`/api/tasks/${t.id}`); ctx.flash('Task deleted.'); await render(); } catch (err) { ctx.flash(describe(err), 'error'); }
        }, {class: 'secondary', 'aria-label': `Delete ${t.title}`})) : null);
    });
    replace(listSlot, items.length ? h('ol', {class: 'tasks'}, items)
      : h('p', {class: 'empty'}, status.value === 'open' ? 'Nothing to do. Add a task below.' : 'No tasks here.'));
  };
  const filters = h('form', {class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); render(); }},
    field('Show', status), field('Search', search), h('button', {type: 'submit', class: 'secondary'}, 'Search'));
  status.addEventListener('change', render);
  replace(main, h('h1', {}, 'Tasks'),
    h('p', {class: 'meta'}, 'Work that has to fit around your meetings. freeslot plans each task into your free time, soonest due first, and warns when one can no longer be done in time.'),
    filters, listSlot,
    h('section', {class: 'card'}, h('h2', {}, 'Add a task'), taskForm(ctx, null, render)));
  await render();
  // A new plan (a sync moved a meeting) shows at once.
  ctx.onNotification = (n) => { if (n.type.startsWith('task.') || n.type === 'availability.changed') render().catch(() => {}); };
}
