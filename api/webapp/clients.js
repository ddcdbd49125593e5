// Clients and projects: who the hours go to, the rules that book events to them, and the hours
// per week as bars.

import {get, post, patch, del, describe, ApiError} from './api.js';
import {h, field, fieldError, replace, button, busy, notice} from './dom.js';
import {addDays, mondayOf, localDate, dayText} from './time.js';

const WEEKS = 8;
const list = (text) => text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean);
const hoursText = (m) => (m === 0 ? '0 h' : m % 60 === 0 ? `${m / 60} h` : `${(m / 60).toFixed(1)} h`);

function chart(client, hours, weeks) {
  const byWeek = new Map(hours.weeks.map((w) => [w.week_start, w.minutes]));
  const values = weeks.map((w) => byWeek.get(w) || 0);
  const top = Math.max(60, ...values);
  return h('figure', {class: 'bars'},
    h('figcaption', {}, `Hours per week, last ${WEEKS} weeks: ${hoursText(hours.total_minutes)} in all`),
    h('ol', {class: 'bar-list'}, weeks.map((w, i) => h('li', {},
      h('span', {class: 'bar', style: {height: `${(values[i] / top) * 100}%`, background: client.color || '#1f5f8b'}}),
      h('span', {class: 'bar-value'}, hoursText(values[i])),
      h('span', {class: 'bar-label'}, dayText(w))))));
}

function clientForm(ctx, client, done) {
  const inputs = {
    name: h('input', {type: 'text', value: client?.name || '', required: true}),
    color: h('input', {type: 'color', value: client?.color || '#1f5f8b'}),
    email_domains: h('input', {type: 'text', value: (client?.email_domains || []).join(', '), placeholder: 'acme.com'}),
    keywords: h('input', {type: 'text', value: (client?.keywords || []).join(', '), placeholder: 'Acme, project phoenix'}),
  };
  const result = h('div', {'aria-live': 'polite'});
  const save = h('button', {type: 'submit'}, client ? 'Save' : 'Add client');
  return h('form', {class: 'client-form', novalidate: true, onsubmit: (e) => {
    e.preventDefault();
    busy(save, async () => {
      Object.values(inputs).forEach((i) => fieldError(i, null));
      const body = {name: inputs.name.value.trim(), color: inputs.color.value,
        email_domains: list(inputs.email_domains.value), keywords: list(inputs.keywords.value)};
      try {
        if (client) await patch(`/api/clients/${client.id}`, body); else await post('/api/clients', body);
        ctx.flash(client ? 'Client saved.' : `${body.name} added. Matching events are booked to it.`);
        done();
      } catch (err) {
        const input = err instanceof ApiError && inputs[err.field];
        if (input) fieldError(input, describe(err)); else replace(result, notice('error', describe(err)));
      }
    });
  }}, h('div', {class: 'grid-2'}, field('Client name', inputs.name), field('Client colour', inputs.color),
    field('Email domains', inputs.email_domains, 'Events with an attendee from these domains belong to this client.'),
    field('Keywords', inputs.keywords, 'Events whose title holds one of these belong to this client.')),
  result, h('div', {class: 'actions'}, save, client ? button('Cancel', done, {class: 'secondary'}) : null));
}

export async function showClients(main, ctx, current) {
  const tz = ctx.me.timezone;
  const render = async () => {
    const {clients} = await get('/api/clients');
    const thisMonday = mondayOf(localDate(ctx.now(), tz));
    const weeks = Array.from({length: WEEKS}, (_, i) => addDays(thisMonday, 7 * (i - WEEKS + 1)));
    const hours = await Promise.all(clients.map((c) =>
      get(`/api/clients/${c.id}/hours?start=${weeks[0]}&end=${addDays(thisMonday, 7)}`)));
    if (!current()) return;
    const cards = clients.map((c, i) => {
      const card = h('li', {class: 'card client'});
      const view = () => replace(card,
        h('div', {class: 'client-head'}, h('span', {class: 'swatch', style: {background: c.color || '#1f5f8b'}}),
          h('h2', {}, c.name), c.archived ? h('span', {class: 'badge'}, 'Archived') : null),
        h('p', {class: 'meta'}, [c.email_domains.length ? `Domains: ${c.email_domains.join(', ')}` : null,
          c.keywords.length ? `Keywords: ${c.keywords.join(', ')}` : null].filter(Boolean).join(' · ') || 'No rules: assign events by hand.'),
        chart(c, hours[i], weeks),
        h('div', {class: 'actions'},
          button('Edit', () => replace(card, clientForm(ctx, c, render)), {class: 'secondary', 'aria-label': `Edit ${c.name}`}),
          button(c.archived ? 'Unarchive' : 'Archive', async () => {
            try { await patch(`/api/clients/${c.id}`, {archived: !c.archived}); await render(); } catch (err) { ctx.flash(describe(err), 'error'); }
          }, {class: 'secondary'}),
          button('Delete', async () => {
            if (!confirm(`Delete ${c.name}? Its events stay, without a client.`)) return;
            try { await del(`/api/clients/${c.id}`); ctx.flash(`${c.name} deleted.`); await render(); } catch (err) { ctx.flash(describe(err), 'error'); }
          }, {class: 'secondary', 'aria-label': `Delete ${c.name}`})));
      view();
      return card;
    });
    replace(main, h('h1', {}, 'Clients'),
      h('p', {class: 'meta'}, 'Book time to clients by rule (attendee domains, title keywords) and see the hours per week.'),
      clients.length ? h('ul', {class: 'clients'}, cards) : h('p', {class: 'empty'}, 'No clients yet. Add one below.'),
      h('section', {class: 'card'}, h('h2', {}, 'Add a client'), clientForm(ctx, null, render)));
  };
  await render();
}
