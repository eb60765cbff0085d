// Page 7, checkout: hands the order over to Stripe Checkout (POST /api/checkout/session), which
// collects the email, the shipping address and the payment, then comes back to the confirmation.

import { ApiError, describeError, getJSON, postJSON } from '../lib/api.js';
import { el } from '../lib/dom.js';
import { currentOrder, signedInHint } from '../lib/store.js';
import '../lib/site.js';

const handover = document.getElementById('handover');
const title = document.getElementById('checkout-title');
const lede = document.getElementById('checkout-lede');
const notice = document.getElementById('checkout-notice');
const status = document.getElementById('checkout-status');

const orderId = new URLSearchParams(window.location.search).get('order') ?? currentOrder.get();

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
  const returnTo = `/checkout?order=${encodeURIComponent(orderId)}`;
  return ['google', 'apple'].map((provider) =>
    el('a', { class: 'btn btn-secondary', href: `/api/auth/login?${new URLSearchParams({ provider, return_to: returnTo })}`, text: `Sign in with ${provider === 'google' ? 'Google' : 'Apple'}` }),
  );
}

async function start() {
  if (!orderId) {
    fail('There is no order to pay', 'Design something and choose sizes first.', [el('a', { class: 'btn btn-primary', href: '/start', text: 'Start designing' })]);
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
    window.location.assign(session.url);
  } catch (error) {
    const summary = el('a', { class: 'btn btn-secondary', href: `/summary?order=${encodeURIComponent(orderId)}`, text: 'Back to your order' });
    if (error instanceof ApiError && error.status === 401) {
      signedInHint.clear();
      fail('Sign in to pay', 'Your order is saved. Sign in with Google or Apple and we will take you straight to checkout.', [...signInLinks(), summary]);
    } else if (error instanceof ApiError && (error.status === 404 || error.status === 409 || error.status === 422)) {
      fail('This order cannot be paid right now', error.message.charAt(0).toUpperCase() + error.message.slice(1) + '.', [summary]);
    } else {
      const { title: heading, detail } = describeError(error);
      fail(heading, detail, [el('button', { class: 'btn btn-primary', type: 'button', text: 'Try again', on: { click: start } }), summary]);
    }
  }
}

start();
