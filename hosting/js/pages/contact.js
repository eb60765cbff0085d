// The contact form: POST /api/contact, with the honeypot field people never see.

import { ApiError, describeError, postJSON } from '../lib/api.js';
import { el } from '../lib/dom.js';
import '../lib/site.js';

const form = document.getElementById('contact-form');
const notice = document.getElementById('contact-notice');
const done = document.getElementById('contact-done');
const submit = form.querySelector('button[type="submit"]');
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const fields = {
  name: { input: form.elements.name, check: (v) => (v ? null : 'Tell us your name.') },
  email: { input: form.elements.email, check: (v) => (!v ? 'Enter your email address, so we can answer.' : EMAIL.test(v) ? null : 'That does not look like an email address.') },
  message: { input: form.elements.message, check: (v) => (v ? null : 'Write your message.') },
};

function setError(name, message) {
  const { input } = fields[name];
  const error = document.getElementById(`contact-${name}-error`);
  input.setAttribute('aria-invalid', String(Boolean(message)));
  error.textContent = message ?? '';
  error.hidden = !message;
}

function validate() {
  let first = null;
  for (const [name, field] of Object.entries(fields)) {
    const message = field.check(field.input.value.trim());
    setError(name, message);
    if (message && !first) first = field.input;
  }
  return first;
}

for (const [name, field] of Object.entries(fields)) {
  // Re-checked as the shopper types (not on blur, which would shift the layout under a click).
  field.input.addEventListener('input', () => {
    if (field.input.getAttribute('aria-invalid') === 'true') setError(name, field.check(field.input.value.trim()));
  });
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (submit.getAttribute('aria-busy') === 'true') return;
  notice.hidden = true;
  const invalid = validate();
  if (invalid) {
    invalid.focus();
    return;
  }
  submit.setAttribute('aria-busy', 'true');
  submit.textContent = 'Sending…';
  try {
    const { id } = await postJSON('/api/contact', {
      name: fields.name.input.value.trim(),
      email: fields.email.input.value.trim(),
      message: fields.message.input.value.trim(),
      website: form.elements.website.value,
    });
    form.hidden = true;
    done.replaceChildren(
      el('h2', { class: 'section-title section-title-sm', text: 'Thank you, your message is on its way' }),
      el('p', { class: 'page-lede', text: 'We answer within one business day, by email.' }),
      el('p', { class: 'meta-label', text: `Reference ${id}` }),
      el('a', { class: 'btn btn-secondary', href: '/', text: 'Back to the shop' }),
    );
    done.hidden = false;
    done.focus();
  } catch (error) {
    const field = error instanceof ApiError ? error.field : null;
    if (field && fields[field]) {
      setError(field, error.message.charAt(0).toUpperCase() + error.message.slice(1) + '.');
      fields[field].input.focus();
    } else {
      const { title, detail } = describeError(error);
      notice.className = 'notice notice-error';
      notice.setAttribute('role', 'alert');
      notice.replaceChildren(el('div', {}, el('p', { class: 'notice-title', text: `Your message was not sent. ${title}` }), el('p', { class: 'notice-detail', text: `${detail} What you wrote is still here.` })));
      notice.hidden = false;
      notice.focus();
    }
  } finally {
    submit.removeAttribute('aria-busy');
    submit.textContent = 'Send message';
  }
});
