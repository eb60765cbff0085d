// Page 7, checkout: hands the order over to Stripe Checkout (POST /api/checkout/session), which
// collects the email, the shipping address and the payment, then comes back to the confirmation.
// The hand-over replaces itself with Stripe's page, so Back from the checkout is the order's
// review; reached by Back or Forward, this page never forwards on its own.

import { ApiError, describeError, getJSON, postJSON } from '../lib/api.js';
import { shippingOptions } from '../lib/delivery.js';
import { el } from '../lib/dom.js';
import { money, priceEquation, totalsList, upchargeEquation } from '../lib/order-view.js';
import { currentOrder, signedInHint } from '../lib/store.js';
import '../lib/site.js';

const handover = document.getElementById('handover');
const title = document.getElementById('checkout-title');
const lede = document.getElementById('checkout-lede');
const notice = document.getElementById('checkout-notice');
const status = document.getElementById('checkout-status');
const orderPanel = document.getElementById('checkout-order');
const itemsRoot = document.getElementById('checkout-items');
const totalsRoot = document.getElementById('checkout-totals');

const orderId = new URLSearchParams(window.location.search).get('order') ?? currentOrder.get();

function summaryUrl() {
  return `/summary?${new URLSearchParams({ order: orderId })}`;
}

function fail(heading, detail, actions) {
  handover.classList.add('is-stopped');
  title.textContent = heading;
  lede.textContent = detail;
  notice.className = 'notice-actions';
  notice.replaceChildren(...actions);
  notice.hidden = false;
  status.textContent = heading;
  title.focus();
}

function signInLinks() {
  // Sign-in returns to the review, one click from here: Back from Stripe is then the review.
  const returnTo = `/summary?${new URLSearchParams({ order: orderId, signed_in: '1' })}`;
  return ['google', 'apple'].map((provider) =>
    el('a', { class: 'btn btn-secondary', href: `/api/auth/login?${new URLSearchParams({ provider, return_to: returnTo })}`, text: `Sign in with ${provider === 'google' ? 'Google' : 'Apple'}` }),
  );
}

/** What the payment is for: each item's price with its parts, and the total Stripe starts from. */
function showOrder(order) {
  itemsRoot.replaceChildren(
    ...order.items.map((item) =>
      el(
        'li',
        { class: 'checkout-item' },
        el('p', { class: 'checkout-item-title' }, el('strong', { text: item.product_name }), ` · ${item.color}`),
        priceEquation(item, order),
        upchargeEquation(item, order),
      ),
    ),
  );
  totalsRoot.replaceChildren(...[totalsList(order), shippingOptions(order)].filter(Boolean));
  orderPanel.hidden = false;
  return money(order.total_cents, order);
}

function cameBack() {
  return performance.getEntriesByType('navigation')[0]?.type === 'back_forward';
}

/** Back here from Stripe or the confirmation: offer the way on, and the review. */
function offerToContinue() {
  fail('Your order is waiting for payment', 'Continue to the secure checkout when you are ready, or go back to your order to change it.', [
    el('button', { class: 'btn btn-primary', type: 'button', text: 'Continue to secure checkout', on: { click: () => start({ go: true }) } }),
    el('a', { class: 'btn btn-secondary', href: summaryUrl(), text: 'Back to your order' }),
  ]);
}

async function start({ go = !cameBack() } = {}) {
  if (!orderId) {
    fail('There is no order to pay', 'Design something and choose sizes first.', [el('a', { class: 'btn btn-primary', href: '/start', text: 'Start designing' })]);
    return;
  }
  getJSON(`/api/orders/${encodeURIComponent(orderId)}`).then(showOrder, () => {
    // The hand-over does not depend on it: the review and Stripe both show the order.
  });
  if (!go) {
    offerToContinue();
    return;
  }
  handover.classList.remove('is-stopped');
  notice.hidden = true;
  title.textContent = 'Taking you to secure checkout…';
  try {
    const session = await postJSON('/api/checkout/session', { order_id: orderId });
    status.textContent = 'Opening Stripe Checkout.';
    // Signed in, as the server just confirmed: remember it for "My orders".
    try {
      signedInHint.set((await getJSON('/api/auth/me')).user);
    } catch {
      // Only a hint; the payment does not depend on it.
    }
    window.location.replace(session.url);
  } catch (error) {
    const summary = el('a', { class: 'btn btn-secondary', href: summaryUrl(), text: 'Back to your order' });
    if (error instanceof ApiError && error.status === 401) {
      signedInHint.clear();
      fail('Sign in to pay', 'Your order is saved. Sign in with Google or Apple, then continue to checkout from your order.', [...signInLinks(), summary]);
    } else if (error instanceof ApiError && (error.status === 404 || error.status === 409 || error.status === 422)) {
      fail('This order cannot be paid right now', error.message.charAt(0).toUpperCase() + error.message.slice(1) + '.', [summary]);
    } else {
      const { title: heading, detail } = describeError(error);
      fail(heading, detail, [el('button', { class: 'btn btn-primary', type: 'button', text: 'Try again', on: { click: () => start({ go: true }) } }), summary]);
    }
  }
}

start();

// Restored from the browser's cache by Back or Forward: never forward again on its own.
window.addEventListener('pageshow', (event) => {
  if (event.persisted) offerToContinue();
});
