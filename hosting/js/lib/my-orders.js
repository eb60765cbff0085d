// "My orders": the signed-in shopper's orders with their status (GET /api/orders).

import { ApiError, describeError, getJSON } from './api.js';
import { el } from './dom.js';
import { money, pieces, statusBadge } from './order-view.js';
import { showAccount } from './site.js';
import { signedInHint } from './store.js';

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

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

/** Fill `root` with the shopper's orders; `highlight` marks the order the page is about. */
export async function renderMyOrders(root, { highlight = null, promptSignIn = true } = {}) {
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
    root.replaceChildren(
      el(
        'ul',
        { class: 'orders-list' },
        orders.map((order) =>
          el(
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
        ),
      ),
    );
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
      el('div', { class: 'notice notice-error', role: 'alert' }, el('div', {}, el('p', { class: 'notice-title', text: title }), el('p', { class: 'notice-detail', text: detail })), el('button', { class: 'btn btn-secondary', type: 'button', text: 'Try again', on: { click: () => renderMyOrders(root, { highlight, promptSignIn }) } })),
    );
  } finally {
    root.removeAttribute('aria-busy');
  }
}
