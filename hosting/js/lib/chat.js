// A chat panel: the conversation log, suggestion chips and the message box. Used by the design
// assistant (studio) and the size assistant (quantities). The page decides what a message does.

import { describeError } from './api.js';
import { el } from './dom.js';

let chats = 0;

/**
 * createChat(root, {label, placeholder, intro, suggestions, send, history, onChange}) -> {say, focus, restore}
 * `send(text)` resolves with the assistant's reply text (or null for none) and rejects with an
 * ApiError, which is shown in the log with a way to send the same message again.
 * `history` ([{role: 'user'|'assistant', text}]) is shown after the intro, as the conversation
 * so far; `onChange(messages)` hears of every message added since the intro.
 */
export function createChat(root, { label, placeholder, intro, suggestions = [], send, history = [], onChange = null }) {
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
  let messages = [];

  function bubble(role, text, extra = [], { scroll = true } = {}) {
    const from = role === 'user' ? 'You' : 'Assistant';
    const item = el(
      'div',
      { class: `chat-message chat-${role}` },
      el('span', { class: 'visually-hidden', text: `${from}: ` }),
      el('p', { class: 'chat-text', text }),
      extra,
    );
    log.append(item);
    if (scroll) item.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    log.scrollTop = log.scrollHeight;
    if (role === 'user' || role === 'assistant') {
      messages = [...messages, { role, text }];
      if (scroll) onChange?.(messages);
    }
    return item;
  }

  /** Show `past` as the conversation so far (after the intro), without scrolling the page. */
  function restore(past) {
    log.replaceChildren();
    messages = [];
    if (intro) bubble('assistant', intro, [], { scroll: false });
    messages = [];
    for (const message of past ?? []) {
      if ((message.role === 'user' || message.role === 'assistant') && typeof message.text === 'string') {
        bubble(message.role, message.text, [], { scroll: false });
      }
    }
    if (chips) chips.hidden = messages.some((m) => m.role === 'user');
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
        const last = messages.findLastIndex((m) => m.role === 'user' && m.text === message);
        if (last >= 0) messages = messages.filter((_, i) => i !== last);
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

  restore(history);

  return {
    say: (text) => bubble('assistant', text),
    focus: () => input.focus(),
    restore,
    get messages() {
      return messages;
    },
    input,
  };
}
