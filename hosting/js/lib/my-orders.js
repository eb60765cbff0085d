// "My orders": the signed-in shopper's orders with their status (GET /api/orders), and for the
// newest, what is in them (GET /api/orders/<id> each, as the list carries no items): each item's
// mockups of every printed side and a way back to its design, and for the paid ones their
// progress, the timeline and the tracking link.

import { ApiError, describeError, getJSON, postJSON } from './api.js';
import { el } from './dom.js';
import { editDesignLink, isPaid, itemMedia, money, orderProgress, pieces, statusBadge } from './order-view.js';
import { showAccount } from './site.js';
import { currentOrder, signedInHint } from './store.js';

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
// The newest orders get their items and progress, a few requests at a time.
const DETAIL_MAX_ORDERS = 12;
const DETAIL_PARALLEL = 3;

/** The order's number as people read it (AUR-10482), or its id where there is none. */
export function orderNumber(order) {
  return order.number ?? order.id;
}

/** Orders past checkout: what a shopper may order again. */
function isPast(order) {
  return order.status !== 'draft' && order.status !== 'pending_payment';
}

/**
 * "Reorder": a new draft with the order's items (each design as it is now, at today's prices),
 * opened on Sizes to check the quantities.
 */
export function reorderButton(order) {
  const button = el('button', { class: 'btn btn-secondary btn-sm', type: 'button' }, 'Reorder', el('span', { class: 'visually-hidden', text: ` order ${orderNumber(order)}` }));
  const message = el('p', { class: 'field-error', role: 'alert', hidden: true });
  button.addEventListener('click', async () => {
    if (button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    message.hidden = true;
    try {
      const draft = await postJSON(`/api/orders/${encodeURIComponent(order.id)}/reorder`);
      currentOrder.set(draft.id);
      window.location.assign(`/quantity?${new URLSearchParams({ order: draft.id })}`);
    } catch (error) {
      const { title, detail } = describeError(error);
      message.textContent = error instanceof ApiError && error.code === 'nothing_to_reorder' ? 'Nothing in this order is sold any more.' : `${title}. ${detail}`;
      message.hidden = false;
      button.removeAttribute('aria-busy');
    }
  });
  return el('div', { class: 'orders-actions' }, button, message);
}

function orderLink(order) {
  const id = encodeURIComponent(order.id);
  if (order.status === 'draft' || order.status === 'pending_payment') return `/summary?order=${id}`;
  return `/confirmation?order=${id}&from=orders`;
}

function signInPrompt(root) {
  const returnTo = window.location.pathname + window.location.search;
  root.replaceChildren(
    el(
      'div',
      { class: 'notice notice-empty' },
      el('div', {}, el('p', { class: 'notice-title', text: 'Sign in to see your orders' }), el('p', { class: 'notice-detail', text: 'Orders you pay while signed in are listed here.' })),
      el('div', { class: 'notice-actions' }, ['google', 'apple'].map((provider) => el('a', { class: 'btn btn-secondary', href: `/api/auth/login?${new URLSearchParams({ provider, return_to: returnTo })}`, text: `Sign in with ${provider === 'google' ? 'Google' : 'Apple'}` }))),
    ),
  );
}

/** The order's items: the mockups of each (every printed side, opening larger) and Edit design. */
function itemsOf(order) {
  return el(
    'ul',
    { class: 'orders-items', 'aria-label': `Items of order ${orderNumber(order)}` },
    order.items.map((item) =>
      el(
        'li',
        { class: 'orders-item' },
        itemMedia(item, null),
        el(
          'div',
          { class: 'orders-item-body' },
          el('p', { class: 'orders-item-title', text: `${item.product_name}, ${item.color}` }),
          el('p', { class: 'orders-meta', text: pieces(item.quantity) }),
          editDesignLink(item),
        ),
      ),
    ),
  );
}

/** Each order's items (and, once paid, progress) into its row; a row that fails keeps its status. */
async function fillDetails(rows, { progress }) {
  const queue = rows.slice(0, DETAIL_MAX_ORDERS);
  async function worker() {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { order, row } = next;
      try {
        const full = await getJSON(`/api/orders/${encodeURIComponent(order.id)}`);
        if (full.items?.length) row.append(itemsOf(full));
        const steps = progress && isPaid(full) ? orderProgress(full, { label: `Progress of order ${orderNumber(full)}`, context: `order ${orderNumber(full)}` }) : null;
        if (steps) row.append(steps);
      } catch {
        // The row still links to the order's page, which shows all of it.
      }
    }
  }
  await Promise.all(Array.from({ length: DETAIL_PARALLEL }, worker));
}

/**
 * Fill `root` with the shopper's orders; `highlight` marks the order the page is about;
 * `details` adds the newest orders' items, and `progress` each paid order's timeline and
 * tracking (both off where the page shows its own order in full).
 */
export async function renderMyOrders(root, { highlight = null, promptSignIn = true, progress = true, details = true } = {}) {
  if (!signedInHint.get()) {
    if (promptSignIn) signInPrompt(root);
    return;
  }
  root.setAttribute('aria-busy', 'true');
  root.replaceChildren(el('p', { class: 'loading-line', text: 'Loading your orders…' }));
  try {
    const { orders } = await getJSON('/api/orders');
    if (!orders.length) {
      root.replaceChildren(el('div', { class: 'notice notice-empty' }, el('div', {}, el('p', { class: 'notice-title', text: 'No orders yet' }), el('p', { class: 'notice-detail', text: 'Your orders appear here once you check out.' })), el('a', { class: 'btn btn-primary', href: '/start', text: 'Start designing' })));
      return;
    }
    const rows = orders.map((order) => ({
      order,
      row: el(
        'li',
        { class: `orders-row${order.id === highlight ? ' is-current' : ''}`, dataset: { order: order.id } },
        el(
          'div',
          { class: 'orders-main' },
          el('a', { class: 'orders-id', href: orderLink(order), text: orderNumber(order) }),
          el('p', { class: 'orders-meta', text: `${dateFormat.format(new Date(order.paid_at ?? order.created_at))} · ${pieces(order.quantity)} · ${order.item_count} design${order.item_count === 1 ? '' : 's'}` }),
        ),
        statusBadge(order.status),
        el('p', { class: 'orders-total', text: money(order.total_cents, order) }),
        details && isPast(order) ? reorderButton(order) : null,
      ),
    }));
    root.replaceChildren(el('ul', { class: 'orders-list' }, rows.map(({ row }) => row)));
    if (details) await fillDetails(rows, { progress });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      signedInHint.clear();
      showAccount();
      if (promptSignIn) signInPrompt(root);
      else root.replaceChildren();
      return;
    }
    const { title, detail } = describeError(error);
    root.replaceChildren(
      el('div', { class: 'notice notice-error', role: 'alert' }, el('div', {}, el('p', { class: 'notice-title', text: title }), el('p', { class: 'notice-detail', text: detail })), el('button', { class: 'btn btn-secondary', type: 'button', text: 'Try again', on: { click: () => renderMyOrders(root, { highlight, promptSignIn, progress, details }) } })),
    );
  } finally {
    root.removeAttribute('aria-busy');
  }
}
