// Sign up and sign in, with the API's errors in words beside the fields they are about.

import {post, describe, ApiError} from './api.js';
import {h, field, fieldError, replace, busy} from './dom.js';

function zones() {
  try { return Intl.supportedValuesOf('timeZone'); } catch { return []; }
}

export function showAuth(main, ctx, signedIn, message) {
  let mode = 'signin';
  const render = () => {
    const email = h('input', {type: 'email', autocomplete: 'email', required: true});
    const password = h('input', {type: 'password', required: true,
      autocomplete: mode === 'signup' ? 'new-password' : 'current-password'});
    const name = h('input', {type: 'text', autocomplete: 'name'});
    const guess = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    const timezone = h('input', {type: 'text', value: guess, list: 'zones', autocomplete: 'off'});
    const inputs = {email, password, name, timezone};
    const result = h('div', {class: 'form-result'});
    const submit = h('button', {type: 'submit'}, mode === 'signup' ? 'Sign up' : 'Sign in');
    const form = h('form', {class: 'card auth', novalidate: true, onsubmit: (e) => {
      e.preventDefault();
      busy(submit, async () => {
        Object.values(inputs).forEach((i) => fieldError(i, null));
        replace(result);
        try {
          if (mode === 'signup') {
            const body = await post('/api/auth/register',
              {email: email.value, password: password.value, name: name.value, timezone: timezone.value});
            signedIn(body.access_token, `Welcome, ${body.user.name || body.user.email}. Connect a calendar to see your week.`);
          } else {
            const body = await post('/api/auth/login', {email: email.value, password: password.value});
            signedIn(body.access_token);
          }
        } catch (err) {
          const input = err instanceof ApiError && inputs[err.field];
          if (input) { fieldError(input, describe(err)); input.focus(); } else {
            replace(result, h('p', {class: 'error', role: 'alert'}, describe(err)));
          }
        }
      });
    }},
    h('h1', {}, mode === 'signup' ? 'Create your freeslot account' : 'Sign in to freeslot'),
    message ? h('p', {class: 'ok', role: 'status'}, message) : null,
    mode === 'signup' ? field('Name', name) : null,
    field('Email', email),
    field('Password', password, mode === 'signup' ? 'At least 10 characters.' : null),
    mode === 'signup' ? field('Time zone', timezone, 'Your working hours and week are shown in it.') : null,
    mode === 'signup' ? h('datalist', {id: 'zones'}, zones().map((z) => h('option', {value: z}))) : null,
    result,
    h('div', {class: 'actions'}, submit,
      h('p', {}, mode === 'signup' ? 'Already have an account? ' : 'New to freeslot? ',
        h('button', {type: 'button', class: 'link', onclick: () => { mode = mode === 'signup' ? 'signin' : 'signup'; message = null; render(); }},
          mode === 'signup' ? 'Sign in' : 'Sign up'))),
    ctx.server.registration === 'closed' && mode === 'signup'
      ? h('p', {class: 'hint'}, 'This server is not taking new accounts; ask its operator for one.') : null);
    replace(main, h('section', {class: 'auth-page'},
      h('div', {class: 'pitch'}, h('h2', {}, 'All your calendars, one picture of your time.'),
        h('p', {}, 'Connect Google, Microsoft, Cal.com, CalDAV and ICS feeds. freeslot finds your free time, flags clashes and publishes your availability.')),
      form));
    (mode === 'signup' ? name : email).focus();
  };
  render();
}
