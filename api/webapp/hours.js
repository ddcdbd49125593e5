// Working hours and the rules around them, with the API's objections shown beside the field.

import {get, post, describe, ApiError} from './api.js';
import {h, field, fieldError, replace, button, busy, notice} from './dom.js';

const DAYS = [['monday', 'Monday'], ['tuesday', 'Tuesday'], ['wednesday', 'Wednesday'], ['thursday', 'Thursday'],
  ['friday', 'Friday'], ['saturday', 'Saturday'], ['sunday', 'Sunday']];

let rows = 0;
function intervalRow(day, span, onRemove) {
  const id = `hours-${++rows}`;
  const start = h('input', {type: 'time', value: span.start, id: `${id}-from`});
  const end = h('input', {type: 'time', value: span.end === '24:00' ? '23:59' : span.end, id: `${id}-until`});
  // Visible labels (the contract: every input has one); the day is the row's heading.
  const row = h('div', {class: 'interval', role: 'group', 'aria-label': day},
    h('label', {for: start.id}, 'From'), start, h('label', {for: end.id}, 'until'), end,
    button('Remove', () => { row.remove(); onRemove(); }, {class: 'link', 'aria-label': `Remove ${day} ${span.start}–${span.end}`}));
  row.read = () => ({start: start.value, end: end.value === '23:59' ? '24:00' : end.value});
  return row;
}

export async function showHours(main, ctx, current) {
  const rules = await get('/api/availability/rules');
  if (!current()) return;
  const weekly = h('fieldset', {class: 'weekly', 'aria-describedby': 'weekly-error'}, h('legend', {}, 'Weekly hours'));
  const rows = new Map();
  for (const [key, label] of DAYS) {
    const list = h('div', {class: 'intervals'});
    const spans = rules.weekly[key] || [];
    const empty = h('span', {class: 'meta'}, 'Day off');
    const refresh = () => { empty.hidden = list.children.length > 0; };
    for (const s of spans) list.append(intervalRow(label, s, refresh));
    refresh();
    rows.set(key, list);
    weekly.append(h('div', {class: 'day-row'}, h('span', {class: 'day-label'}, label), list, empty,
      button('Add hours', () => { list.append(intervalRow(label, {start: '09:00', end: '17:00'}, refresh)); refresh(); },
        {class: 'secondary', 'aria-label': `Add hours on ${label}`})));
  }
  const weeklyError = h('p', {class: 'field-error', id: 'weekly-error', hidden: true});
  weekly.append(weeklyError);

  const num = (v, min, max) => h('input', {type: 'number', value: v, min, max, step: 1, inputmode: 'numeric'});
  const inputs = {
    timezone: h('input', {type: 'text', value: rules.timezone, list: 'zones', autocomplete: 'off'}),
    buffer_before_minutes: num(rules.buffer_before_minutes, 0, 1440),
    buffer_after_minutes: num(rules.buffer_after_minutes, 0, 1440),
    minimum_notice_minutes: num(rules.minimum_notice_minutes, 0, 525600),
    slot_interval_minutes: num(rules.slot_interval_minutes, 5, 1440),
    days_off: h('textarea', {rows: 3}, (rules.days_off || []).join('\n')),
  };
  const tentative = h('input', {type: 'checkbox', checked: rules.tentative_is_busy});
  const taskBlocks = h('select', {},
    [['at_risk', 'Only for tasks at risk'], ['busy', 'Always'], ['free', 'Never']]
      .map(([value, text]) => h('option', {value, selected: (rules.task_blocks || 'at_risk') === value}, text)));
  const result = h('div', {'aria-live': 'polite'});
  const save = h('button', {type: 'submit'}, 'Save');
  let zones = [];
  try { zones = Intl.supportedValuesOf('timeZone'); } catch { /* older browsers: free text */ }

  const form = h('form', {class: 'card hours', novalidate: true, onsubmit: (e) => {
    e.preventDefault();
    busy(save, async () => {
      Object.values(inputs).forEach((i) => fieldError(i, null));
      weeklyError.hidden = true;
      replace(result);
      const body = {
        timezone: inputs.timezone.value.trim(),
        weekly: Object.fromEntries([...rows].map(([k, list]) => [k, [...list.children].map((r) => r.read())])),
        days_off: inputs.days_off.value.split(/[\s,]+/).filter(Boolean),
        buffer_before_minutes: Number(inputs.buffer_before_minutes.value || 0),
        buffer_after_minutes: Number(inputs.buffer_after_minutes.value || 0),
        minimum_notice_minutes: Number(inputs.minimum_notice_minutes.value || 0),
        slot_interval_minutes: Number(inputs.slot_interval_minutes.value || 30),
        tentative_is_busy: tentative.checked,
        task_blocks: taskBlocks.value,
      };
      try {
        await post('/api/availability/rules', body);
        replace(result, notice('ok', 'Saved. Your free time now follows these hours.'));
      } catch (err) {
        const field = err instanceof ApiError ? err.field : null;
        if (field === 'weekly') { weeklyError.textContent = describe(err); weeklyError.hidden = false; weekly.scrollIntoView({block: 'nearest'}); }
        else if (inputs[field]) { fieldError(inputs[field], describe(err)); inputs[field].focus(); }
        else replace(result, notice('error', describe(err)));
      }
    });
  }},
  weekly,
  h('div', {class: 'grid-2'},
    field('Time zone', inputs.timezone, 'Working hours are read in this zone.'),
    field('Buffer before meetings (minutes)', inputs.buffer_before_minutes),
    field('Buffer after meetings (minutes)', inputs.buffer_after_minutes),
    field('Minimum notice (minutes)', inputs.minimum_notice_minutes, 'No slot starts sooner than this from now.'),
    field('Slot interval (minutes)', inputs.slot_interval_minutes, 'Slots start this often within your hours.'),
    field('Days off', inputs.days_off, 'One date per line, such as 2026-12-24.'),
    field('Planned task time counts as busy', taskBlocks, 'Whether the time your tasks are planned into is offered as free.')),
  h('label', {class: 'check'}, tentative, ' Tentative events count as busy'),
  h('datalist', {id: 'zones'}, zones.map((z) => h('option', {value: z}))),
  result, h('div', {class: 'actions'}, save));
  replace(main, h('h1', {}, 'Working hours'),
    h('p', {class: 'meta'}, 'When you are available for meetings. Free time is these hours minus everything busy in your calendars.'),
    form);
}
