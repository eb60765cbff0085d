// Page 6, the summary: every item with its mockup, color, sizes and prices, the order total,
// and signing in (Google or Apple) to continue to checkout.

import { ApiError, describeError, getJSON, postJSON } from '../lib/api.js';
import { el } from '../lib/dom.js';
import { shippingOptions } from '../lib/delivery.js';
import { shareControl } from '../lib/share.js';
import { loadCatalog } from '../lib/products.js';
import { editDesignLink, isPaid, itemSummary, statusSentence, totalsList } from '../lib/order-view.js';
import { currentOrder, signedInHint } from '../lib/store.js';
import { showAccount } from '../lib/site.js';

const list = document.getElementById('summary-items');
const totals = document.getElementById('summary-totals');
const notice = document.getElementById('summary-notice');
const status = document.getElementById('summary-status');
const signIn = document.getElementById('sign-in');
const signedIn = document.getElementById('signed-in');

const params = new URLSearchParams(window.location.search);
const orderId = params.get('order') ?? currentOrder.get();

// Back from sign-in (?signed_in=1): the server says who signed in, and the way on to pay is
// one click away. The page does not forward on its own, so Back from the checkout is this page
// (a browser skips, on Back, a page that moved on without the shopper asking).
const backFromSignIn = params.has('signed_in');
if (orderId && backFromSignIn) history.replaceState(history.state, '', `/summary?${new URLSearchParams({ order: orderId })}`);

async function whoSignedIn() {
  try {
    signedInHint.set((await getJSON('/api/auth/me')).user);
  } catch {
    signedInHint.clear();
  }
  showAccount();
}

function checkoutUrl(id) {
  return `/checkout?${new URLSearchParams({ order: id })}`;
}

function loginUrl(provider, returnTo) {
  return `/api/auth/login?${new URLSearchParams({ provider, return_to: returnTo })}`;
}

function showNotice(title, detail, action, tone = 'error') {
  notice.className = `notice notice-${tone}`;
  if (tone === 'error') notice.setAttribute('role', 'alert');
  notice.replaceChildren(el('div', {}, el('p', { class: 'notice-title', text: title }), el('p', { class: 'notice-detail', text: detail })), action);
  notice.hidden = false;
}

/** Back to an editable draft: the open checkout is ended first, so it can never be paid twice. */
function editButton(order) {
  const button = el('button', { type: 'button', class: 'btn btn-secondary', text: 'Change the order' });
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await postJSON('/api/checkout/reopen', { order_id: order.id });
      window.location.assign(`/quantity?order=${encodeURIComponent(order.id)}`);
    } catch (error) {
      const { title, detail } = describeError(error);
      showNotice(title, detail, editButton(order));
    }
  });
  return button;
}

/** A group order of the item's design: everyone picks their own size from one link. */
function groupLink(item, name) {
  if (!item.design_id) return null;
  const query = new URLSearchParams({ design: item.design_id, product: item.product_id, color: item.color });
  return el('a', { class: 'text-link', href: `/group/new?${query}`, text: 'Start a group order', 'aria-label': `Start a group order of ${name}` });
}

function itemActions(order, item) {
  const name = `${item.product_name}, ${item.color}`;
  const share = item.design_id ? shareControl(item.design_id, { name }) : null;
  if (order.status !== 'draft') return share;
  return el(
    'div',
    { class: 'summary-item-actions' },
    el('a', { class: 'text-link', href: `/quantity?order=${encodeURIComponent(order.id)}`, text: 'Change sizes', 'aria-label': `Change sizes of ${name}` }),
    editDesignLink(item),
    groupLink(item, name),
    share,
  );
}

function render(order, products) {
  list.replaceChildren(...order.items.map((item) => itemSummary(item, products.get(item.product_id), order, { actions: itemActions(order, item) })));
  totals.replaceChildren(...[el('p', { class: 'order-ref', text: `Order ${order.number ?? order.id}` }), totalsList(order), isPaid(order) ? null : shippingOptions(order)].filter(Boolean));
  status.textContent = `${order.items.length} item${order.items.length === 1 ? '' : 's'}, total ${totals.querySelector('.totals-grand dd').textContent}.`;

  if (!order.items.length || order.quantity === 0) {
    showNotice('Your order is empty', 'Design something and choose sizes to check out.', el('a', { class: 'btn btn-primary', href: '/start', text: 'Start designing' }), 'empty');
    return;
  }
  if (isPaid(order)) {
    showNotice(statusSentence(order.status), order.status === 'refunded' ? 'Its confirmation page has the details.' : 'Thank you! You can follow it on its confirmation page.', el('a', { class: 'btn btn-secondary', href: `/confirmation?order=${order.id}`, text: 'See the confirmation' }), 'info');
    return;
  }
  if (order.status === 'pending_payment') {
    const resume = el('a', { class: 'btn btn-primary', href: checkoutUrl(order.id), text: 'Continue to secure checkout' });
    showNotice('Payment not finished', 'You left the secure checkout before paying. Continue where you left off, or change the order first.', el('div', { class: 'notice-actions' }, resume, editButton(order)), 'info');
  } else if (order.status !== 'draft') {
    showNotice(statusSentence(order.status), 'It can no longer be paid. Start a new design to order again.', el('a', { class: 'btn btn-secondary', href: '/start', text: 'Start designing' }));
    return;
  }

  // Sign-in comes back here (then on to checkout), so Back from the checkout is this page.
  const afterSignIn = `/summary?${new URLSearchParams({ order: order.id, signed_in: '1' })}`;
  document.getElementById('sign-in-google').href = loginUrl('google', afterSignIn);
  document.getElementById('sign-in-apple').href = loginUrl('apple', afterSignIn);
  document.getElementById('to-checkout').href = checkoutUrl(order.id);
  document.getElementById('switch-account').href = loginUrl('google', afterSignIn);
  const user = signedInHint.get();
  signIn.hidden = Boolean(user);
  signedIn.hidden = !user;
  if (user && backFromSignIn && order.status === 'draft') document.getElementById('to-checkout').focus();
}

async function start() {
  if (!orderId) {
    showNotice('No order yet', 'Design something first, then review it here.', el('a', { class: 'btn btn-primary', href: '/start', text: 'Start designing' }), 'empty');
    return;
  }
  list.setAttribute('aria-busy', 'true');
  list.replaceChildren(el('li', { class: 'summary-item is-loading', 'aria-hidden': 'true' }, el('span', { class: 'skeleton item-media' }), el('span', { class: 'skeleton skeleton-block' })));
  status.textContent = 'Loading your order…';
  try {
    const [order, catalog] = await Promise.all([getJSON(`/api/orders/${encodeURIComponent(orderId)}`), loadCatalog(), backFromSignIn ? whoSignedIn() : null]);
    render(order, new Map(catalog.products.map((p) => [p.id, p])));
  } catch (error) {
    list.replaceChildren();
    if (error instanceof ApiError && error.status === 404) {
      currentOrder.clear();
      showNotice('We could not find this order', 'It may belong to another browser or account. If you signed in elsewhere, sign in here too.', el('a', { class: 'btn btn-secondary', href: '/start', text: 'Start a new design' }));
    } else {
      const { title, detail } = describeError(error);
      showNotice(title, detail, el('button', { class: 'btn btn-secondary', type: 'button', text: 'Try again', on: { click: () => { notice.hidden = true; start(); } } }));
    }
  } finally {
    list.removeAttribute('aria-busy');
  }
}

start();

// Back from the checkout to a page the browser kept: the order has moved on (awaiting payment).
window.addEventListener('pageshow', (event) => {
  if (event.persisted) {
    notice.hidden = true;
    start();
  }
});
