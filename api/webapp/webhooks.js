// Webhook endpoints: where freeslot POSTs the user's notifications (signed, Standard Webhooks),
// each with its delivery log. A secret is shown once, when it is made.

import {get, post, patch, del, describe, ApiError} from './api.js';
import {h, field, fieldError, replace, button, busy, notice} from './dom.js';
import {dateTimeText} from './time.js';

/** Every notification type, in words (the contract's table). */
export const TYPES = [
  ['calendar.synced', 'A calendar synced with changes'],
  ['calendar.sync_failed', 'A calendar failed to sync'],
  ['connection.needs_reauth', 'A connection needs reconnecting'],
  ['conflict.opened', 'A conflict appeared'],
  ['conflict.resolved', 'A conflict was resolved'],
  ['availability.changed', 'Free time changed'],
  ['export.pushed', 'Availability sent to Cal.com'],
  ['export.failed', 'Sending to Cal.com failed'],
  ['task.reminder', 'A task reminder'],
  ['task.at_risk', 'A task is at risk'],
  ['webhook.disabled', 'A webhook endpoint was turned off'],
];

function typesText(types) {
  if (TYPES.every(([t]) => types.includes(t))) return 'Every notification';
  return types.map((t) => (TYPES.find(([k]) => k === t) || [t, t])[1]).join(', ');
}

/** The secret, once: copy it now. */
function secretCard(url, secret) {
  return h('div', {class: 'card secret', role: 'status'},
    h('p', {}, `Signing secret for ${url}. Copy it now: it is not shown again.`),
    h('code', {class: 'secret-value'}, secret),
    h('p', {class: 'meta'}, 'Verify each delivery’s webhook-signature header with it (any Standard Webhooks library does).'));
}

function logTable(entries, tz) {
  if (!entries.length) return h('p', {class: 'empty'}, 'Nothing sent yet.');
  return h('table', {class: 'log'},
    h('caption', {}, 'Delivery log, newest first'),
    h('thead', {}, h('tr', {}, ['When', 'Notification', 'Attempt', 'Result', 'Took'].map((c) => h('th', {scope: 'col'}, c)))),
    h('tbody', {}, entries.map((e) => h('tr', {class: e.status_code >= 200 && e.status_code < 300 ? 'ok' : 'failed'},
      h('td', {}, dateTimeText(Date.parse(e.at), tz)),
      h('td', {}, e.notification_id),
      h('td', {}, String(e.attempt)),
      h('td', {}, e.status_code >= 200 && e.status_code < 300 ? `Delivered (${e.status_code})`
        : e.error || `Answered ${e.status_code}`),
      h('td', {}, `${e.duration_ms} ms`)))));
}

function endpointForm(ctx, done, shown) {
  const url = h('input', {type: 'url', required: true, placeholder: 'https://hooks.example.com/freeslot'});
  const description = h('input', {type: 'text', placeholder: 'CRM automation'});
  const boxes = TYPES.map(([type, label]) => {
    const box = h('input', {type: 'checkbox', checked: true, value: type});
    return {type, box, el: field(label, box)};
  });
  const types = h('fieldset', {class: 'types'}, h('legend', {}, 'Notifications to send'), boxes.map((b) => b.el));
  const result = h('div', {'aria-live': 'polite'});
  const save = h('button', {type: 'submit'}, 'Add endpoint');
  return h('form', {novalidate: true, onsubmit: (e) => {
    e.preventDefault();
    busy(save, async () => {
      fieldError(url, null);
      replace(result);
      const chosen = boxes.filter((b) => b.box.checked).map((b) => b.type);
      const body = {url: url.value.trim(), description: description.value.trim()};
      if (chosen.length !== TYPES.length) body.types = chosen;
      try {
        const created = await post('/api/webhook-endpoints', body);
        ctx.flash(`Endpoint added: ${created.url}`);
        await done();
        shown(secretCard(created.url, created.secret));
      } catch (err) {
        if (err instanceof ApiError && err.field === 'url') fieldError(url, describe(err));
        else replace(result, notice('error', describe(err)));
      }
    });
  }}, field('Endpoint URL', url, 'Where freeslot sends a POST for each notification.'),
  field('Description', description), types, result, h('div', {class: 'actions'}, save));
}

export async function showWebhooks(main, ctx, current) {
  const tz = ctx.me.timezone;
  const secretSlot = h('div', {'aria-live': 'polite'});
  const render = async () => {
    const {webhook_endpoints: endpoints} = await get('/api/webhook-endpoints');
    if (!current()) return;
    const cards = endpoints.map((ep) => {
      const logSlot = h('div', {});
      const act = (fn) => async () => {
        try { await fn(); } catch (err) { ctx.flash(describe(err), 'error'); }
      };
      const loadLog = async () => {
        const {deliveries} = await get(`/api/webhook-endpoints/${ep.id}/deliveries?limit=50`);
        if (current()) replace(logSlot, logTable(deliveries, tz));
        return deliveries;
      };
      const showLog = act(loadLog);
      return h('li', {class: `card endpoint${ep.enabled ? '' : ' off'}`},
        h('h2', {}, ep.url),
        ep.description ? h('p', {}, ep.description) : null,
        h('p', {class: 'meta'}, typesText(ep.types)),
        h('p', {class: ep.enabled ? 'ok-text' : 'error'}, ep.enabled ? 'On'
          : `Off${ep.disabled_reason ? `: freeslot turned it off because ${ep.disabled_reason}` : ''}.`),
        h('div', {class: 'actions'},
          button('Send a test', act(async () => {
            const {webhook_id: sent} = await post(`/api/webhook-endpoints/${ep.id}/test`);
            ctx.flash('Test sent. Its result shows in the delivery log.');
            // The worker sends it within moments: watch the log until its first attempt is there.
            for (let i = 0; i < 20 && current(); i += 1) {
              const log = await loadLog();
              if (log.some((e) => e.notification_id === sent)) return;
              await new Promise((r) => { setTimeout(r, 1000); });
            }
          }), {class: 'secondary', disabled: !ep.enabled, 'aria-label': `Send a test to ${ep.url}`}),
          button('Delivery log', showLog, {class: 'secondary', 'aria-label': `Delivery log of ${ep.url}`}),
          button(ep.enabled ? 'Turn off' : 'Turn on', act(async () => {
            await patch(`/api/webhook-endpoints/${ep.id}`, {enabled: !ep.enabled});
            await render();
          }), {class: 'secondary'}),
          button('New secret', act(async () => {
            if (!confirm('Make a new signing secret? The old one keeps signing beside it for 24 hours.')) return;
            const rotated = await post(`/api/webhook-endpoints/${ep.id}/rotate-secret`);
            replace(secretSlot, secretCard(rotated.url, rotated.secret));
          }), {class: 'secondary'}),
          button('Delete', act(async () => {
            if (!confirm(`Delete the endpoint ${ep.url}? Nothing more is sent to it.`)) return;
            await del(`/api/webhook-endpoints/${ep.id}`);
            ctx.flash('Endpoint deleted.');
            await render();
          }), {class: 'secondary', 'aria-label': `Delete ${ep.url}`})),
        logSlot);
    });
    replace(main, h('h1', {}, 'Webhooks'),
      h('p', {class: 'meta'}, 'freeslot sends each notification to these addresses as it happens, signed so the receiver can tell it is genuine; a receiver that fails is retried for about a day.'),
      secretSlot,
      endpoints.length ? h('ul', {class: 'endpoints'}, cards) : h('p', {class: 'empty'}, 'No endpoints yet. Add one below.'),
      h('section', {class: 'card'}, h('h2', {}, 'Add an endpoint'),
        endpointForm(ctx, render, (card) => replace(secretSlot, card))));
  };
  await render();
}
