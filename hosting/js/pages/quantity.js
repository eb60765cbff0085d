// Page 5, quantities: a size grid per item with live prices from the server (tiers and size
// upcharges explained), and the size assistant, which understands "10 M, 5 L and 3 XL".

import { ApiError, describeError, getJSON, postJSON } from '../lib/api.js';
import { createChat } from '../lib/chat.js';
import { el } from '../lib/dom.js';
import { arrivalLine } from '../lib/delivery.js';
import { loadCatalog, sizeChart } from '../lib/products.js';
import { editDesignLink, isPaid, itemMedia, money, priceEquation, totalsList, upchargeEquation } from '../lib/order-view.js';
import { currentOrder } from '../lib/store.js';
import '../lib/site.js';

const SAVE_DELAY_MS = 350;
const MAX_PER_SIZE = 10000;

const itemsRoot = document.getElementById('quantity-items');
const totalsBody = document.getElementById('totals-body');
const toSummary = document.getElementById('to-summary');
const pageNotice = document.getElementById('quantity-notice');
const totalsPanel = document.getElementById('totals');
const undoRoot = document.getElementById('undo-notice');
const pageTitle = document.getElementById('quantity-title');
const pageLede = document.getElementById('quantity-lede');

const orderId = new URLSearchParams(window.location.search).get('order') ?? currentOrder.get();
let order = null;
let products = new Map();
let views = [];
let saveTimer = 0;
let saving = null;
let pending = false;

// ---- the order on the server ----------------------------------------------------------------

function draftItems() {
  return views.map((view) => ({
    product_id: view.item.product_id,
    design_id: view.item.design_id ?? undefined,
    color: view.item.color,
    sizes: view.sizes(),
  }));
}

function scheduleSave() {
  pending = true;
  totalsPanel.setAttribute('aria-busy', 'true');
  clearTimeout(saveTimer);
  saveTimer = setTimeout(save, SAVE_DELAY_MS);
}

async function save() {
  clearTimeout(saveTimer);
  if (saving) await saving.catch(() => {});
  if (!pending) return;
  if (views.some((view) => view.invalid())) {
    totalsPanel.removeAttribute('aria-busy');
    return;
  }
  pending = false;
  saving = postJSON('/api/orders/draft', { order_id: order.id, items: draftItems() });
  try {
    show(await saving);
    hidePageNotice();
  } catch (error) {
    showPageNotice(error, 'Your change was not saved');
  } finally {
    saving = null;
    if (!pending) totalsPanel.removeAttribute('aria-busy');
  }
}

async function flush() {
  clearTimeout(saveTimer);
  if (pending) await save();
  else if (saving) await saving.catch(() => {});
}

function show(next) {
  order = next;
  if (views.length !== order.items.length) buildItems();
  else order.items.forEach((item, index) => views[index].update(item));
  renderTotals();
}

// ---- one item: grid, prices, assistant --------------------------------------------------------

function freshKey(item) {
  return `auren.fresh.${order.id}.${item.design_id}`;
}

function isFresh(item) {
  try {
    return Boolean(item.design_id) && sessionStorage.getItem(freshKey(item)) === '1';
  } catch {
    return false;
  }
}

function notFresh(item) {
  try {
    sessionStorage.removeItem(freshKey(item));
  } catch {
    // Nothing to forget.
  }
}

/** A product sold in one size only (a tote, a cap): it is asked "how many?", not "which sizes?". */
function isOneSize(product, item) {
  const sizes = product?.sizes ?? Object.keys(item.sizes);
  return sizes.length === 1;
}

function itemView(item, index) {
  const product = products.get(item.product_id);
  const sizes = product?.sizes ?? Object.keys(item.sizes);
  const upcharges = product?.size_upcharges ?? {};
  const title = `${item.product_name}, ${item.color}`;
  const oneSize = isOneSize(product, item);
  const inputs = new Map();
  const error = el('p', { class: 'field-error', id: `item-${index}-error`, hidden: true });

  function sizeInput(size, id) {
    const input = el('input', {
      class: 'input size-input',
      id,
      type: 'number',
      inputmode: 'numeric',
      min: 0,
      max: MAX_PER_SIZE,
      step: 1,
      value: String(item.sizes[size] ?? 0),
      'aria-describedby': `item-${index}-error`,
    });
    input.addEventListener('input', () => {
      notFresh(view.item);
      checkInputs();
      scheduleSave();
    });
    input.addEventListener('focus', () => input.select());
    inputs.set(size, input);
    return input;
  }

  const cells = oneSize
    ? []
    : sizes.map((size) => {
        const id = `item-${index}-size-${size}`;
        return el(
          'div',
          { class: 'size-cell' },
          el('label', { class: 'size-label', for: id, text: size }),
          sizeInput(size, id),
          upcharges[size] ? el('span', { class: 'size-upcharge', text: `+${money(upcharges[size], order)}` }) : el('span', { class: 'size-upcharge', 'aria-hidden': 'true', text: ' ' }),
        );
      });
  const quantityField = oneSize
    ? el(
        'div',
        { class: 'qty-single' },
        el('label', { class: 'size-legend', for: `item-${index}-quantity` }, 'How many?', el('span', { class: 'visually-hidden', text: ` ${title}` })),
        el('div', { class: 'qty-single-row' }, sizeInput(sizes[0], `item-${index}-quantity`), el('span', { class: 'qty-single-unit', 'aria-hidden': 'true', text: 'pieces, one size' })),
        error,
      )
    : el(
        'fieldset',
        { class: 'size-grid-wrap' },
        el('legend', { class: 'size-legend' }, 'Quantities by size', el('span', { class: 'visually-hidden', text: ` for ${title}` })),
        el('div', { class: 'size-grid-row' }, el('div', { class: 'size-grid' }, cells), sizeChart(product)),
        error,
      );

  function readSizes() {
    const result = {};
    let bad = null;
    for (const [size, input] of inputs) {
      const raw = input.value.trim();
      const value = raw === '' ? 0 : Number(raw);
      const valid = Number.isInteger(value) && value >= 0 && value <= MAX_PER_SIZE;
      input.setAttribute('aria-invalid', String(!valid));
      if (!valid) bad ??= `Enter a whole number from 0 to ${MAX_PER_SIZE.toLocaleString()} for ${size}.`;
      else if (value > 0) result[size] = value;
    }
    if (!bad && !Object.keys(result).length) bad = 'Add at least one piece, or remove this design from the order.';
    return { result, bad };
  }

  function checkInputs() {
    const { bad } = readSizes();
    error.textContent = bad ?? '';
    error.hidden = !bad;
    return !bad;
  }

  const media = itemMedia(item, product);
  const pricing = el('div', { class: 'qty-pricing', 'aria-live': 'polite' });
  const tierHint = el('p', { class: 'tier-hint' });
  const ladder = el('ol', { class: 'tier-ladder', 'aria-label': `Price per piece for ${item.product_name}` });
  const removeButton = el('button', { class: 'text-button text-button-danger', type: 'button', text: 'Remove', 'aria-label': `Remove ${title} from the order` });
  removeButton.addEventListener('click', () => removeItem(index));

  const assistantRoot = el('div', { class: 'chat chat-compact' });
  const node = el(
    'article',
    { class: 'panel qty-item', 'aria-labelledby': `item-${index}-title` },
    el(
      'div',
      { class: 'qty-item-head' },
      media,
      el(
        'div',
        { class: 'qty-item-title-block' },
        el('h2', { class: 'qty-item-title', id: `item-${index}-title`, text: item.product_name }),
        el('p', { class: 'qty-item-meta', text: item.color }),
        el('p', { class: 'qty-item-actions' }, editDesignLink(item), removeButton),
      ),
    ),
    quantityField,
    pricing,
    tierHint,
    ladder,
    el(
      'div',
      { class: 'qty-assistant' },
      el('h3', { class: 'qty-assistant-title', text: 'Or tell the size assistant' }),
      assistantRoot,
    ),
  );

  const view = {
    node,
    item,
    sizes: () => readSizes().result,
    invalid: () => !checkInputs(),
    update(next) {
      view.item = next;
      for (const [size, input] of inputs) {
        const value = String(next.sizes[size] ?? 0);
        if (document.activeElement !== input && input.value !== value && !pending) input.value = value;
      }
      renderPrices(next);
    },
  };

  function renderPrices(current) {
    pricing.replaceChildren(
      ...[
        priceEquation(current, order, { className: 'qty-price' }),
        upchargeEquation(current, order),
        current.savings_cents > 0 ? el('p', { class: 'saving-note', text: `You save ${money(current.savings_cents, order)} with volume pricing.` }) : null,
      ].filter(Boolean),
    );
    const next = current.next_tier;
    tierHint.hidden = !next;
    if (next) {
      tierHint.replaceChildren(
        el('strong', { text: `Order ${next.min_quantity}+ and save ${money(next.saving_per_piece_cents, order)} on every piece.` }),
        ` Add ${next.pieces_to_go} more to pay ${money(next.unit_price_cents, order)} each.`,
      );
    }
    if (product) {
      const tiers = [{ min_quantity: 1, unit_price_cents: product.base_price_cents }, ...product.price_tiers.filter((t) => t.min_quantity > 1)];
      ladder.replaceChildren(
        ...tiers.map((tier, i) => {
          const upTo = tiers[i + 1] ? `–${tiers[i + 1].min_quantity - 1}` : '+';
          const active = current.tier_min_quantity === tier.min_quantity || (i === 0 && current.tier_min_quantity <= 1);
          return el(
            'li',
            { class: `tier${active ? ' is-active' : ''}`, 'aria-current': active ? 'true' : null },
            el('span', { class: 'tier-range', text: `${tier.min_quantity}${upTo}` }),
            el('span', { class: 'tier-price', text: money(tier.unit_price_cents, order) }),
          );
        }),
      );
    }
  }

  createChat(assistantRoot, {
    label: `Tell the size assistant the quantities for ${title}`,
    placeholder: oneSize ? 'e.g. 25' : 'e.g. 10 M, 5 L and 3 XL',
    suggestions: oneSize ? ['25 please', 'Add 10 more'] : ['10 M, 5 L and 3 XL', 'Add 2 more L', '5 of each size'],
    send: async (message) => {
      await flush();
      // A new item's starting quantity is only a placeholder: the shopper's first description
      // of the sizes replaces it instead of adding to it.
      const text = isFresh(view.item) ? `only ${message}` : message;
      const answer = await postJSON('/api/orders/assistant', { order_id: order.id, item: index, message: text });
      if (answer.understood) notFresh(view.item);
      show(answer.order);
      return answer.reply;
    },
  });

  renderPrices(item);
  return view;
}

// Removing an item can be undone: the notice above the items puts it back where it was.
async function removeItem(index) {
  await flush();
  const all = draftItems();
  const removed = all[index];
  const name = `${order.items[index].product_name}, ${order.items[index].color}`;
  try {
    show(await postJSON('/api/orders/draft', { order_id: order.id, items: all.filter((_, i) => i !== index) }));
    offerUndo(name, () => restoreItem(removed, index, name));
  } catch (error) {
    showPageNotice(error, 'The design was not removed');
  }
}

async function restoreItem(removed, index, name) {
  await flush();
  const items = draftItems();
  items.splice(Math.min(index, items.length), 0, removed);
  try {
    show(await postJSON('/api/orders/draft', { order_id: order.id, items }));
    undoRoot.hidden = true;
    undoRoot.replaceChildren();
    const restored = itemsRoot.querySelectorAll('.qty-item-title')[Math.min(index, views.length - 1)];
    restored?.setAttribute('tabindex', '-1');
    restored?.focus();
    hidePageNotice();
    return name;
  } catch (error) {
    showPageNotice(error, `${name} was not put back`);
    return null;
  }
}

function offerUndo(name, undo) {
  const button = el('button', { class: 'btn btn-secondary btn-sm', type: 'button', text: 'Undo', 'aria-describedby': 'undo-text' });
  button.addEventListener('click', async () => {
    button.disabled = true;
    if (!(await undo())) button.disabled = false;
  });
  undoRoot.replaceChildren(el('p', { class: 'undo-text', id: 'undo-text', text: `Removed ${name} from the order.` }), button);
  undoRoot.hidden = false;
  button.focus();
}

/** "How many?" when every item comes in one size; "How many, in which sizes?" otherwise. */
function renderHeading() {
  const oneSize = order.items.length > 0 && order.items.every((item) => isOneSize(products.get(item.product_id), item));
  pageTitle.textContent = oneSize ? 'How many?' : 'How many, in which sizes?';
  pageLede.textContent = oneSize
    ? 'Type how many you need, or just tell the assistant, for example “24”. Prices update as you go.'
    : 'Type a number under each size, or just tell the assistant, for example “10 M, 5 L and 3 XL”. Prices update as you go.';
}

function buildItems() {
  renderHeading();
  views = order.items.map((item, index) => itemView(item, index));
  itemsRoot.replaceChildren(...views.map((view) => view.node));
  if (!views.length) {
    itemsRoot.append(
      el(
        'div',
        { class: 'notice notice-empty' },
        el('div', {}, el('p', { class: 'notice-title', text: 'Your order is empty' }), el('p', { class: 'notice-detail', text: 'Design something to add it here.' })),
        el('a', { class: 'btn btn-primary', href: '/start', text: 'Start designing' }),
      ),
    );
  }
}

function renderTotals() {
  totalsBody.replaceChildren(...[totalsList(order), arrivalLine(order.shipping_options, { suffix: ', if paid today.' })].filter(Boolean));
  const ready = order.quantity > 0;
  toSummary.href = `/summary?order=${encodeURIComponent(order.id)}`;
  toSummary.setAttribute('aria-disabled', String(!ready));
}

toSummary.addEventListener('click', async (event) => {
  event.preventDefault();
  if (toSummary.getAttribute('aria-disabled') === 'true' || !order) return;
  if (views.some((view) => view.invalid())) {
    itemsRoot.querySelector('[aria-invalid="true"], .size-input')?.focus();
    return;
  }
  await flush();
  if (!pending && pageNotice.hidden) window.location.assign(toSummary.href);
});

// ---- notices ------------------------------------------------------------------------------

function showPageNotice(error, heading, action = null) {
  const { title, detail } = error instanceof Error ? describeError(error) : error;
  pageNotice.className = 'notice notice-error';
  pageNotice.setAttribute('role', 'alert');
  pageNotice.replaceChildren(el('div', {}, el('p', { class: 'notice-title', text: heading ?? title }), el('p', { class: 'notice-detail', text: heading ? `${title}. ${detail}` : detail })), action);
  pageNotice.hidden = false;
}

function hidePageNotice() {
  pageNotice.hidden = true;
}

// ---- start ----------------------------------------------------------------------------------

async function start() {
  if (!orderId) {
    itemsRoot.replaceChildren(
      el(
        'div',
        { class: 'notice notice-empty' },
        el('div', {}, el('p', { class: 'notice-title', text: 'No order yet' }), el('p', { class: 'notice-detail', text: 'Design something first; then choose sizes here.' })),
        el('a', { class: 'btn btn-primary', href: '/start', text: 'Start designing' }),
      ),
    );
    totalsPanel.hidden = true;
    return;
  }
  itemsRoot.replaceChildren(el('div', { class: 'panel qty-item is-loading', 'aria-hidden': 'true' }, el('span', { class: 'skeleton skeleton-title' }), el('span', { class: 'skeleton skeleton-block' })));
  itemsRoot.setAttribute('aria-busy', 'true');
  try {
    const [loaded, catalog] = await Promise.all([getJSON(`/api/orders/${encodeURIComponent(orderId)}`), loadCatalog()]);
    products = new Map(catalog.products.map((p) => [p.id, p]));
    if (loaded.status !== 'draft') {
      const next = isPaid(loaded) ? `/confirmation?order=${loaded.id}` : `/summary?order=${loaded.id}`;
      itemsRoot.replaceChildren();
      totalsPanel.hidden = true;
      showPageNotice({ title: 'This order can no longer be changed', detail: 'It is already on its way through checkout.' }, null, el('a', { class: 'btn btn-secondary', href: next, text: 'See the order' }));
      return;
    }
    currentOrder.set(loaded.id);
    order = loaded;
    buildItems();
    renderTotals();
  } catch (error) {
    itemsRoot.replaceChildren();
    totalsPanel.hidden = true;
    if (error instanceof ApiError && error.status === 404) {
      currentOrder.clear();
      showPageNotice({ title: 'We could not find this order', detail: 'It may belong to another browser or account.' }, null, el('a', { class: 'btn btn-secondary', href: '/start', text: 'Start a new design' }));
    } else {
      showPageNotice(error, null, el('button', { class: 'btn btn-secondary', type: 'button', text: 'Try again', on: { click: () => { hidePageNotice(); totalsPanel.hidden = false; start(); } } }));
    }
  } finally {
    itemsRoot.removeAttribute('aria-busy');
  }
}

start();
