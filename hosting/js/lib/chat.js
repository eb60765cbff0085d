// A chat panel: the conversation log, suggestion chips and the message box. Used by the design
// assistant (studio) and the size assistant (quantities). The page decides what a message does.

import { describeError } from './api.js';
import { el } from './dom.js';

let chats = 0;

/**
 * createChat(root, {label, placeholder, intro, suggestions, send}) -> {say, focus}
 * `send(text)` resolves with the assistant's reply text (or null for none) and rejects with an
 * ApiError, which is shown in the log with a way to send the same message again.
 */
export function createChat(root, { label, placeholder, intro, suggestions = [], send }) {
  const id = `chat-${++chats}`;
  // Focusable, so keyboard users can scroll the conversation when it overflows.
  const log = el('div', { class: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-label': `${label}: conversation`, tabindex: 0 });
  const input = el('textarea', {
    class: 'input chat-input',
    id: `${id}-input`,
    rows: 2,
    maxlength: 500,
    placeholder,
    autocomplete: 'off',
    enterkeyhint: 'send',
  });
  const sendButton = el('button', { class: 'btn btn-primary chat-send', type: 'submit' }, 'Send');
  const form = el(
    'form',
    { class: 'chat-form', novalidate: true },
    el('label', { class: 'visually-hidden', for: input.id, text: label }),
    input,
    sendButton,
  );
  const chips = suggestions.length
    ? el(
        'div',
        { class: 'chat-suggestions', role: 'group', 'aria-label': 'Suggestions' },
        suggestions.map((text) =>
          el('button', { class: 'chip', type: 'button', on: { click: () => submit(text) } }, text),
        ),
      )
    : null;
  root.replaceChildren(log, chips, form);

  let busy = false;

  function bubble(role, text, extra = []) {
    const from = role === 'user' ? 'You' : 'Assistant';
    const item = el(
      'div',
      { class: `chat-message chat-${role}` },
      el('span', { class: 'visually-hidden', text: `${from}: ` }),
      el('p', { class: 'chat-text', text }),
      extra,
    );
    log.append(item);
    item.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function typing() {
    const item = el('div', { class: 'chat-message chat-assistant chat-typing', role: 'status', 'aria-label': 'The assistant is typing' }, el('span'), el('span'), el('span'));
    log.append(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function setBusy(value) {
    busy = value;
    sendButton.setAttribute('aria-disabled', String(value));
    form.setAttribute('aria-busy', String(value));
  }

  async function submit(text) {
    const message = text.trim();
    if (!message || busy) return;
    bubble('user', message);
    input.value = '';
    if (chips) chips.hidden = true;
    setBusy(true);
    const waiting = typing();
    try {
      const reply = await send(message);
      waiting.remove();
      if (reply) bubble('assistant', reply);
    } catch (error) {
      waiting.remove();
      const { title, detail } = describeError(error);
      const retry = el('button', { class: 'text-button', type: 'button', text: 'Send again' });
      const item = bubble('error', `${title}. ${detail}`, retry);
      item.setAttribute('role', 'alert');
      retry.addEventListener('click', () => {
        item.remove();
        log.lastElementChild?.remove();
        submit(message);
      }, { once: true });
    } finally {
      setBusy(false);
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit(input.value);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit(input.value);
    }
  });

  if (intro) bubble('assistant', intro);

  return {
    say: (text) => bubble('assistant', text),
    focus: () => input.focus(),
    input,
  };
}
