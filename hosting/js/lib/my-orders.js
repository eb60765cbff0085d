// "My orders": the signed-in shopper's orders with their status (GET /api/orders) and, for the
// paid ones, their progress: the timeline and the tracking link (GET /api/orders/<id> each,
// as the list carries neither).

import { ApiError, describeError, getJSON } from './api.js';
import { el } from './dom.js';
import { isPaid, money, orderProgress, pieces, statusBadge } from './order-view.js';
import { showAccount } from './site.js';
import { signedInHint } from './store.js';

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
// The newest paid orders get their progress, a few requests at a time.
const PROGRESS_MAX_ORDERS = 12;
const PROGRESS_PARALLEL = 3;

function orderLink(order) {
  if (order.status === 'draft') return `/summary?order=${encodeURIComponent(order.id)}`;
  if (order.status === 'pending_payment') return `/summary?order=${encodeURIComponent(order.id)}`;
  return `/confirmation?order=${encodeURIComponent(order.id)}`;
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

/** Each paid order's timeline and tracking into its row; a row that fails keeps its status. */
async function fillProgress(rows) {
  const queue = rows.filter(({ order }) => isPaid(order)).slice(0, PROGRESS_MAX_ORDERS);
  async function worker() {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { order, row } = next;
      try {
        const full = await getJSON(`/api/orders/${encodeURIComponent(order.id)}`);
        const progress = orderProgress(full, { label: `Progress of order ${order.id}`, context: `order ${order.id}` });
        if (progress) row.append(progress);
      } catch {
        // The row still links to the order's confirmation page, which shows its progress.
      }
    }
  }
  await Promise.all(Array.from({ length: PROGRESS_PARALLEL }, worker));
}

/**
 * Fill `root` with the shopper's orders; `highlight` marks the order the page is about, and
 * `progress` adds each paid order's timeline and tracking (off where the page shows its own).
 */
export async function renderMyOrders(root, { highlight = null, promptSignIn = true, progress = true } = {}) {
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
        { class: `orders-row${order.id === highlight ? ' is-current' : ''}` },
        el(
          'div',
          { class: 'orders-main' },
          el('a', { class: 'orders-id', href: orderLink(order), text: order.id }),
          el('p', { class: 'orders-meta', text: `${dateFormat.format(new Date(order.paid_at ?? order.created_at))} · ${pieces(order.quantity)} · ${order.item_count} design${order.item_count === 1 ? '' : 's'}` }),
        ),
        statusBadge(order.status),
        el('p', { class: 'orders-total', text: money(order.total_cents, order) }),
      ),
    }));
    root.replaceChildren(el('ul', { class: 'orders-list' }, rows.map(({ row }) => row)));
    if (progress) await fillProgress(rows);
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
      el('div', { class: 'notice notice-error', role: 'alert' }, el('div', {}, el('p', { class: 'notice-title', text: title }), el('p', { class: 'notice-detail', text: detail })), el('button', { class: 'btn btn-secondary', type: 'button', text: 'Try again', on: { click: () => renderMyOrders(root, { highlight, promptSignIn, progress }) } })),
    );
  } finally {
    root.removeAttribute('aria-busy');
  }
}
