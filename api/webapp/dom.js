// Building the page without innerHTML: every text a user or a provider wrote goes in as text,
// never as markup, so a calendar event titled "<script>" is just a title.

/** h('button', {class: 'x', onclick: f}, 'Save') */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'style') Object.assign(el.style, value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

let ids = 0;
/** A labelled input: the label is visible and points at the input (the contract's words). */
export function field(label, input, hint) {
  input.id ||= `f${++ids}`;
  const error = h('p', {class: 'field-error', id: `${input.id}-error`, hidden: true});
  input.setAttribute('aria-describedby', error.id);
  return h('div', {class: 'field'}, h('label', {for: input.id}, label), input,
    hint ? h('p', {class: 'hint'}, hint) : null, error);
}

/** Shows `message` beside the input of a `field()`, or clears it. */
export function fieldError(input, message) {
  const error = document.getElementById(`${input.id}-error`);
  if (!error) return;
  error.textContent = message || '';
  error.hidden = !message;
  input.toggleAttribute('aria-invalid', Boolean(message));
}

export function button(text, onclick, attrs = {}) {
  return h('button', {type: 'button', onclick, ...attrs}, text);
}

/** Runs `action` with the button disabled, so a double click does not send twice. */
export async function busy(btn, action) {
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  try { return await action(); } finally { btn.disabled = false; btn.removeAttribute('aria-busy'); }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A message that belongs to one part of the page (a form's error, say). */
export function notice(kind, text) {
  return h('p', {class: kind, role: kind === 'error' ? 'alert' : 'status'}, text);
}
