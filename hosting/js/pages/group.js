// A group order, at /group/<something> (Hosting rewrites /group/** to this page):
// - /group/new?design=&product=&color=   the organizer starts a group of one of their designs;
// - /group/grp_...                        the organizer's roster, kept live, with the totals per
//                                         size, the tier price, the share link and closing;
// - /group/<token>                        a member (no sign-in) sees the mockups, the sizes and
//                                         the deadline, and adds, changes or removes their entry.

import { ApiError, api, describeError, getJSON, postJSON } from '../lib/api.js';
import { el } from '../lib/dom.js';
import { formatMoney } from '../lib/format.js';
import { zoomableMockup } from '../lib/mockup-zoom.js';
import '../lib/site.js';

const title = document.getElementById('group-title');
const lede = document.getElementById('group-lede');
const eyebrow = document.getElementById('group-eyebrow');
const status = document.getElementById('group-status');
const root = document.getElementById('group-root');

const POLL_MS = 5000;
const GROUP_ID = /^grp_[A-Za-z0-9_-]{24}$/;
const TOKEN = /^[A-Za-z0-9_-]{32}$/;
const FONTS = ['Aileron Black', 'Aileron Bold', 'Aileron'];
const TEXT_COLORS = [['', 'Automatic: stands out on the garment'], ['#ffffff', 'White'], ['#111111', 'Black'], ['#d4a017', 'Gold'], ['#c8102e', 'Red'], ['#1f2a44', 'Navy']];

const ref = decodeURIComponent(window.location.pathname.replace(/^\/group\/?/, '').replace(/\/$/, ''));

function stopped(heading, detail, action = null) {
  title.textContent = heading;
  lede.textContent = detail;
  root.replaceChildren(action ?? '');
  status.textContent = heading;
}

function failure(error, retry) {
  const { title: heading, detail } = describeError(error);
  stopped(heading, detail, retry ? el('button', { class: 'btn btn-secondary', type: 'button', text: 'Try again', on: { click: retry } }) : null);
}

function notFound() {
  stopped('This group order was not found', 'The link may be mistyped. Ask whoever sent it for the whole link.', el('a', { class: 'btn btn-secondary', href: '/start', text: 'Design your own' }));
}

function loginUrl(returnTo) {
  return `/api/auth/login?${new URLSearchParams({ provider: 'google', return_to: returnTo })}`;
}

function when(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

function mockups(group, name, back = null) {
  const sides = [
    ['front', group.mockups.front],
    ['back', back ?? group.mockups.back],
  ].filter(([, src]) => src);
  return el('div', { class: 'group-mockups' }, sides.map(([side, src]) => zoomableMockup(src, `${name}, ${side}`, { label: side === 'back' ? 'Back' : 'Front', lazy: false })));
}

function field(id, label, control, hint = null) {
  if (hint) control.setAttribute('aria-describedby', `${id}-hint`);
  return el('div', { class: 'field' }, el('label', { class: 'field-label', for: id, text: label }), control, hint ? el('p', { class: 'field-hint', id: `${id}-hint`, text: hint }) : null);
}

function formError(form, error) {
  const box = form.querySelector('.form-error');
  const { title: heading, detail } = describeError(error);
  box.textContent = error instanceof ApiError && error.status === 422 ? error.message : `${heading}. ${detail}`;
  box.hidden = false;
  box.focus();
}

function sizesLine(sizes) {
  const entries = Object.entries(sizes);
  return entries.length ? entries.map(([size, count]) => `${size} × ${count}`).join(', ') : 'none yet';
}

function printLabel(entry) {
  const printed = entry.personalization;
  if (!printed) return '';
  return [printed.name, printed.number ? `#${printed.number}` : null].filter(Boolean).join(' ');
}

// --- the organizer starts a group ------------------------------------------------------------

function startForm() {
  const params = new URLSearchParams(window.location.search);
  const design = params.get('design');
  const product = params.get('product');
  const color = params.get('color');
  eyebrow.textContent = 'Start a group order';
  if (!design || !product || !color) {
    stopped('Choose a design first', 'A group order starts from one of your designs: open it in your order summary and choose “Start a group order”.', el('a', { class: 'btn btn-secondary', href: '/start', text: 'Start designing' }));
    return;
  }
  title.textContent = 'Start a group order';
  lede.textContent = 'Share one link: each person picks their own size, and a name and number for the back if you offer them. You close it and pay once.';
  const form = el(
    'form',
    { class: 'form group-form', novalidate: true },
    field('group-title-input', 'Title', el('input', { class: 'input', id: 'group-title-input', name: 'title', maxlength: 80, required: true, value: 'Team kit' }), 'Everyone who opens the link sees it.'),
    field('group-deadline', 'Deadline (optional)', el('input', { class: 'input', id: 'group-deadline', name: 'deadline', type: 'datetime-local' }), 'Entries close then; you can close the group earlier.'),
    el(
      'fieldset',
      { class: 'group-fieldset' },
      el('legend', { class: 'field-label', text: 'Printed on the back of each piece' }),
      el('label', { class: 'group-check' }, el('input', { type: 'checkbox', name: 'name', checked: true }), ' Their name'),
      el('label', { class: 'group-check' }, el('input', { type: 'checkbox', name: 'number', checked: true }), ' Their number'),
    ),
    field('group-font', 'Font', el('select', { class: 'select', id: 'group-font', name: 'font' }, FONTS.map((font) => el('option', { value: font, text: font })))),
    field('group-size', 'Text size', el('select', { class: 'select', id: 'group-size', name: 'size' }, ['small', 'medium', 'large'].map((size) => el('option', { value: size, text: size, selected: size === 'medium' })))),
    field('group-color', 'Text colour', el('select', { class: 'select', id: 'group-color', name: 'color' }, TEXT_COLORS.map(([value, label]) => el('option', { value, text: label })))),
    el('p', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true }),
    el('button', { class: 'btn btn-primary', type: 'submit', text: 'Create the group link' }),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const deadline = data.get('deadline');
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const group = await postJSON('/api/groups', {
        design_id: design,
        product_id: product,
        color,
        title: data.get('title'),
        deadline: deadline ? new Date(deadline).toISOString() : null,
        personalization: { name: data.has('name'), number: data.has('number'), font: data.get('font'), size: data.get('size'), color: data.get('color') || null },
      });
      window.location.assign(`/group/${encodeURIComponent(group.id)}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        stopped('Sign in to start a group order', 'The group is yours to close and pay once everyone is in.', el('a', { class: 'btn btn-primary', href: loginUrl(window.location.pathname + window.location.search), text: 'Sign in' }));
        return;
      }
      formError(form, error);
    } finally {
      button.disabled = false;
    }
  });
  root.replaceChildren(form);
}

// --- the organizer's roster --------------------------------------------------------------------

let pollTimer = null;

function shareBox(group) {
  const input = el('input', { class: 'input share-url', id: 'group-share-url', type: 'url', readonly: true, value: group.share_url });
  const said = el('p', { class: 'field-hint', role: 'status' });
  const copy = el('button', { class: 'btn btn-secondary', type: 'button', text: 'Copy link' });
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(group.share_url);
      said.textContent = 'Copied. Send it to everyone in the group.';
    } catch {
      input.focus();
      input.select();
      said.textContent = 'Select the link and copy it.';
    }
  });
  const actions = [copy];
  if (navigator.share) {
    const share = el('button', { class: 'btn btn-secondary', type: 'button', text: 'Share…' });
    share.addEventListener('click', () => navigator.share({ title: group.title, url: group.share_url }).catch(() => {}));
    actions.push(share);
  }
  input.addEventListener('focus', () => input.select());
  return el('div', { class: 'group-share' }, el('label', { class: 'field-label', for: input.id, text: 'Link for the group' }), input, el('div', { class: 'group-actions' }, actions), said);
}

function totalsBox(group) {
  const money = (cents) => formatMoney(cents, group.currency);
  const hint = group.next_tier
    ? `${group.next_tier.pieces_to_go} more piece${group.next_tier.pieces_to_go === 1 ? '' : 's'} to reach the next price: ${money(group.next_tier.unit_price_cents)} each.`
    : 'The best price is reached.';
  return el(
    'div',
    { class: 'panel group-totals' },
    el('h2', { class: 'panel-title', text: 'Totals' }),
    el(
      'dl',
      { class: 'group-figures' },
      el('dt', { text: 'Pieces' }), el('dd', { text: String(group.pieces) }),
      el('dt', { text: 'Per size' }), el('dd', { text: sizesLine(group.sizes) }),
      el('dt', { text: 'Price per piece' }), el('dd', { text: money(group.unit_price_cents) }),
      el('dt', { text: 'So far' }), el('dd', { text: money(group.subtotal_cents) }),
    ),
    el('p', { class: 'tier-hint', text: hint }),
  );
}

function rosterTable(group) {
  if (!group.members.length) return el('p', { class: 'field-hint', text: 'No one has joined yet. Send the link to the group.' });
  const personalized = group.personalization.name || group.personalization.number;
  return el(
    'div',
    { class: 'group-table-wrap' },
    el(
      'table',
      { class: 'group-table' },
      el('caption', { class: 'visually-hidden', text: 'Who has joined' }),
      el('thead', {}, el('tr', {}, ['Name', 'Size', 'Pieces', personalized ? 'On the back' : null].filter(Boolean).map((heading) => el('th', { scope: 'col', text: heading })))),
      el('tbody', {}, group.members.map((entry) => el('tr', {}, el('td', { text: entry.name }), el('td', { text: entry.size }), el('td', { text: String(entry.quantity) }), personalized ? el('td', { text: printLabel(entry) || '—' }) : null))),
    ),
  );
}

function closeControl(group) {
  if (group.status === 'closed') {
    return el('a', { class: 'btn btn-primary', href: `/summary?${new URLSearchParams({ order: group.order_id })}`, text: 'Go to the order' });
  }
  const button = el('button', { class: 'btn btn-primary', type: 'button', text: 'Close the group and order', disabled: group.members.length === 0 });
  const said = el('p', { class: 'form-error', role: 'alert', hidden: true });
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const closed = await postJSON(`/api/groups/${encodeURIComponent(group.id)}/close`);
      window.location.assign(`/summary?${new URLSearchParams({ order: closed.order_id })}`);
    } catch (error) {
      const { title: heading, detail } = describeError(error);
      said.textContent = `${heading}. ${detail}`;
      said.hidden = false;
      button.disabled = false;
    }
  });
  return el('div', { class: 'group-close' }, button, el('p', { class: 'field-hint', text: 'Closing stops entries and turns the roster into one order to review and pay.' }), said);
}

function renderRoster(group) {
  const name = `${group.product_name} in ${group.color}`;
  eyebrow.textContent = 'Your group order';
  title.textContent = group.title;
  document.title = `${group.title} · Group order · Auren`;
  const state = group.status === 'closed' ? 'Closed: the roster is now an order.' : group.accepting ? 'Open for entries.' : 'The deadline has passed: close it to order.';
  lede.textContent = `${name}. ${state}${group.deadline ? ` Deadline: ${when(group.deadline)}.` : ''}`;
  root.replaceChildren(
    el(
      'div',
      { class: 'group-layout' },
      el('div', { class: 'group-main' }, group.status === 'open' ? shareBox(group) : null, el('h2', { class: 'section-title-sm', text: `Who has joined (${group.member_count})` }), rosterTable(group)),
      el('aside', { class: 'group-aside' }, totalsBox(group), closeControl(group), mockups(group, name)),
    ),
  );
  status.textContent = `${group.member_count} entries, ${group.pieces} pieces.`;
}

async function showRoster() {
  clearTimeout(pollTimer);
  try {
    const group = await getJSON(`/api/groups/${encodeURIComponent(ref)}`);
    const focused = document.activeElement?.id;
    renderRoster(group);
    if (focused) document.getElementById(focused)?.focus();
    if (group.status === 'open') pollTimer = setTimeout(poll, POLL_MS);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) notFound();
    else failure(error, showRoster);
  } finally {
    root.removeAttribute('aria-busy');
  }
}

function poll() {
  if (document.hidden) {
    document.addEventListener('visibilitychange', showRoster, { once: true });
    return;
  }
  showRoster();
}

// --- a member --------------------------------------------------------------------------------

let editing = null; // the id of the entry being changed

function entryForm(group) {
  const mine = editing ? group.mine.find((entry) => entry.id === editing) : null;
  const printed = mine?.personalization ?? {};
  const form = el(
    'form',
    { class: 'form group-form', novalidate: true, 'aria-labelledby': 'entry-heading' },
    el('h2', { class: 'section-title-sm', id: 'entry-heading', text: mine ? 'Change your entry' : group.mine.length ? 'Add someone else' : 'Add your size' }),
    field('entry-name', 'Your name', el('input', { class: 'input', id: 'entry-name', name: 'name', autocomplete: 'name', maxlength: 60, required: true, value: mine?.name ?? '' }), 'The others in the group see only your first name.'),
    field('entry-size', 'Size', el('select', { class: 'select', id: 'entry-size', name: 'size', required: true }, group.product.sizes.map((size) => el('option', { value: size, text: size, selected: size === (mine?.size ?? 'M') })))),
    field('entry-quantity', 'Pieces', el('input', { class: 'input', id: 'entry-quantity', name: 'quantity', type: 'number', min: 1, max: group.max_quantity, value: mine?.quantity ?? 1, inputmode: 'numeric' })),
    group.personalization.name ? field('entry-print-name', 'Name on the back (optional)', el('input', { class: 'input', id: 'entry-print-name', name: 'print_name', maxlength: 14, value: printed.name ?? '' }), 'Up to 14 letters, spaces and . \' -') : null,
    group.personalization.number ? field('entry-print-number', 'Number on the back (optional)', el('input', { class: 'input', id: 'entry-print-number', name: 'print_number', inputmode: 'numeric', maxlength: 2, pattern: '[0-9]{1,2}', value: printed.number ?? '' }), '0 to 99') : null,
    el('p', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true }),
    el('div', { class: 'group-actions' }, el('button', { class: 'btn btn-primary', type: 'submit', text: mine ? 'Save changes' : 'Add me' }), mine ? el('button', { class: 'btn btn-secondary', type: 'button', text: 'Cancel', on: { click: () => { editing = null; showMember(); } } }) : null),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const personalization = {};
    if (data.get('print_name')) personalization.name = data.get('print_name');
    if (data.get('print_number')) personalization.number = data.get('print_number');
    const body = { name: data.get('name'), size: data.get('size'), quantity: Number(data.get('quantity') || 1), personalization };
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      const path = `/api/groups/${encodeURIComponent(ref)}/members`;
      const next = mine ? await api(`${path}/${encodeURIComponent(mine.id)}`, { method: 'PATCH', body }) : await postJSON(path, body);
      editing = null;
      renderMember(next);
      status.textContent = mine ? 'Your entry is changed.' : 'You are in.';
      document.getElementById('mine-heading')?.focus();
    } catch (error) {
      formError(form, error);
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  });
  return form;
}

function myEntries(group, name) {
  if (!group.mine.length) return null;
  return el(
    'div',
    { class: 'panel group-mine' },
    el('h2', { class: 'panel-title', id: 'mine-heading', tabindex: '-1', text: group.mine.length === 1 ? 'Your entry' : 'Your entries' }),
    el(
      'ul',
      { class: 'group-entries' },
      group.mine.map((entry) =>
        el(
          'li',
          { class: 'group-entry' },
          el('p', { class: 'group-entry-line' }, el('strong', { text: entry.name }), ` · ${entry.size} × ${entry.quantity}`, printLabel(entry) ? ` · on the back: ${printLabel(entry)}` : ''),
          entry.preview_back ? zoomableMockup(entry.preview_back, `${name}, back, with ${printLabel(entry)}`, { label: 'Your back', lazy: false }) : null,
          group.accepting
            ? el(
                'div',
                { class: 'group-actions' },
                el('button', { class: 'text-button', type: 'button', text: 'Change', 'aria-label': `Change the entry of ${entry.name}`, on: { click: () => { editing = entry.id; renderMember(group); document.getElementById('entry-name')?.focus(); } } }),
                el('button', { class: 'text-button text-button-danger', type: 'button', text: 'Remove', 'aria-label': `Remove the entry of ${entry.name}`, on: { click: () => removeEntry(entry) } }),
              )
            : null,
        ),
      ),
    ),
  );
}

async function removeEntry(entry) {
  try {
    const next = await api(`/api/groups/${encodeURIComponent(ref)}/members/${encodeURIComponent(entry.id)}`, { method: 'DELETE' });
    if (editing === entry.id) editing = null;
    renderMember(next);
    status.textContent = `The entry of ${entry.name} is removed.`;
  } catch (error) {
    failure(error, showMember);
  }
}

function others(group) {
  return el(
    'div',
    { class: 'group-others' },
    el('h2', { class: 'section-title-sm', text: `Who is in (${group.members.length + group.mine.length})` }),
    group.members.length ? el('ul', { class: 'group-names' }, group.members.map((member) => el('li', { text: `${member.first_name} · ${member.size}` }))) : el('p', { class: 'field-hint', text: 'No one else yet.' }),
  );
}

function renderMember(group) {
  const name = `${group.product.name} in ${group.color}`;
  eyebrow.textContent = 'Group order';
  title.textContent = group.title;
  document.title = `${group.title} · Group order · Auren`;
  const printed = [group.personalization.name ? 'your name' : null, group.personalization.number ? 'your number' : null].filter(Boolean).join(' and ');
  lede.textContent = `${name}, sizes ${group.product.sizes.join(', ')}.${printed ? ` Add ${printed} for the back.` : ''}${group.deadline ? ` Deadline: ${when(group.deadline)}.` : ''}`;
  const closed = group.status === 'closed' ? 'The organizer has closed this group: the order is on its way.' : 'The deadline has passed: entries can no longer change.';
  root.replaceChildren(
    el(
      'div',
      { class: 'group-layout' },
      el('div', { class: 'group-main' }, group.accepting ? null : el('div', { class: 'notice notice-info' }, el('p', { class: 'notice-title', text: closed })), myEntries(group, name), group.accepting ? entryForm(group) : null, others(group)),
      el('aside', { class: 'group-aside' }, mockups(group, name)),
    ),
  );
}

async function showMember() {
  try {
    renderMember(await getJSON(`/api/groups/${encodeURIComponent(ref)}`));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) notFound();
    else failure(error, showMember);
  } finally {
    root.removeAttribute('aria-busy');
  }
}

if (ref === 'new') {
  startForm();
  root.removeAttribute('aria-busy');
} else if (GROUP_ID.test(ref)) showRoster();
else if (TOKEN.test(ref)) showMember();
else {
  notFound();
  root.removeAttribute('aria-busy');
}
