// Page 8, the confirmation: thanks, the order number, its progress (timeline, tracking link,
// refunds), items and total. Stripe tells our webhook that the payment went through, usually
// within seconds: until then the page keeps asking. Later visits show how far the order got.

import { ApiError, describeError, getJSON, postJSON } from '../lib/api.js';
import { paidArrival } from '../lib/delivery.js';
import { el } from '../lib/dom.js';
import { orderNumber, renderMyOrders, reorderButton } from '../lib/my-orders.js';
import { loadCatalog } from '../lib/products.js';
import { STATUS_LABELS, isPaid, itemSummary, orderProgress, statusBadge, statusSentence, totalsList } from '../lib/order-view.js';
import { currentOrder } from '../lib/store.js';
import '../lib/site.js';

const POLL_START_MS = 1000;
const POLL_MAX_MS = 5000;
const POLL_GIVE_UP_MS = 3 * 60 * 1000;

const head = document.getElementById('confirmation-head');
const title = document.getElementById('confirmation-title');
const lede = document.getElementById('confirmation-lede');
const status = document.getElementById('confirmation-status');
const notice = document.getElementById('confirmation-notice');
const panel = document.getElementById('confirmation-order');
const myOrders = document.getElementById('my-orders');

const params = new URLSearchParams(window.location.search);
const orderId = params.get('order');
const sessionId = params.get('session_id'); // Checkout's, on its success URL
const started = Date.now();
// Thanks are for the shopper just back from paying: the page saw the payment come in, or it
// came in within the hour and the shopper did not come from their list of orders.
const JUST_PAID_MS = 60 * 60 * 1000;
let sawPending = false;
let products = new Map();

function showNotice(heading, detail, action) {
  notice.className = 'notice notice-error';
  notice.setAttribute('role', 'alert');
  notice.replaceChildren(el('div', {}, el('p', { class: 'notice-title', text: heading }), el('p', { class: 'notice-detail', text: detail })), action);
  notice.hidden = false;
}

function renderOrder(order) {
  panel.replaceChildren(
    el(
      'div',
      { class: 'confirmation-meta' },
      el('div', {}, el('p', { class: 'meta-label', text: 'Order number' }), el('p', { class: 'order-number', text: orderNumber(order) })),
      el('div', {}, el('p', { class: 'meta-label', text: 'Status' }), statusBadge(order.status)),
      arrives(order),
    ),
    orderProgress(order, { headingId: 'confirmation-progress' }),
    el('h2', { class: 'visually-hidden', text: 'Items' }),
    el('ul', { class: 'summary-items' }, order.items.map((item) => itemSummary(item, products.get(item.product_id), order))),
    totalsList(order),
    isPaid(order) ? reorderButton(order) : null,
  );
  panel.hidden = false;
}

/** When a paid order not yet delivered arrives, by the rate chosen on Checkout. */
function arrives(order) {
  const on = ['paid', 'in_production', 'shipped'].includes(order.status) ? paidArrival(order, { lead: null }) : null;
  return on ? el('div', {}, el('p', { class: 'meta-label', text: 'Arrives' }), on) : null;
}

// What the head says once the order is paid for, by how far it got.
function paidHead(order) {
  switch (order.status) {
    case 'in_production':
      return ['Your order is in production', 'Our team has reviewed your design and it is being printed. We will email you when your order ships.'];
    case 'shipped':
      return ['Your order is on its way', order.tracking?.url ? 'It is with the carrier: follow it with the tracking link below.' : 'It is with the carrier; its tracking number is below.'];
    case 'delivered':
      return ['Your order was delivered', 'We hope you love it. If anything is wrong with the print, contact us.'];
    case 'refunded':
      return ['This order was refunded', 'The refund goes back to the card you paid with. Contact us if this is not what you expected.'];
    default:
      return justPaid(order)
        ? ['Thank you! Your order is paid.', 'We have emailed your receipt. Our team reviews every design before printing, and we will email you again when your order ships.']
        : ['Your order is paid', `Paid on ${paidOn(order)}. Our team reviews every design before printing, and we will email you when your order ships.`];
  }
}

function justPaid(order) {
  if (sawPending) return true;
  const paidAt = Date.parse(order.paid_at ?? '');
  return params.get('from') !== 'orders' && Number.isFinite(paidAt) && Date.now() - paidAt < JUST_PAID_MS;
}

function paidOn(order) {
  const paidAt = new Date(order.paid_at ?? order.created_at);
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'long' }).format(paidAt);
}

function paid(order) {
  head.classList.add(order.status === 'refunded' ? 'is-stopped' : 'is-done');
  [title.textContent, lede.textContent] = paidHead(order);
  status.textContent = `Order ${orderNumber(order)}: ${STATUS_LABELS[order.status]}.`;
  if (currentOrder.get() === order.id) currentOrder.clear();
  renderMyOrders(myOrders, { highlight: order.id, promptSignIn: false, progress: false, details: false });
}

async function poll(delay = POLL_START_MS) {
  let order;
  try {
    order = await getJSON(`/api/orders/${encodeURIComponent(orderId)}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      head.classList.add('is-stopped');
      title.textContent = 'We could not find this order';
      lede.textContent = 'It may belong to another browser or account. If you paid, your receipt is in your inbox.';
      return;
    }
    if (Date.now() - started < POLL_GIVE_UP_MS && (error.isNetworkError || error.isServerError || error.isRateLimited)) {
      setTimeout(() => poll(Math.min(delay * 2, POLL_MAX_MS)), Math.max(delay, (error.retryAfter ?? 0) * 1000));
      return;
    }
    const { title: heading, detail } = describeError(error);
    showNotice(heading, detail, el('button', { class: 'btn btn-secondary', type: 'button', text: 'Try again', on: { click: () => { notice.hidden = true; poll(); } } }));
    return;
  }
  renderOrder(order);
  if (isPaid(order)) {
    paid(order);
  } else if (order.status === 'pending_payment' && Date.now() - started < POLL_GIVE_UP_MS) {
    sawPending = true;
    status.textContent = 'Waiting for the payment confirmation.';
    setTimeout(() => poll(Math.min(delay * 1.5, POLL_MAX_MS)), delay);
  } else if (order.status === 'pending_payment') {
    head.classList.add('is-stopped');
    title.textContent = 'Your payment is still being confirmed';
    lede.textContent = 'This is taking longer than usual. You will get an email as soon as it is through; you can safely close this page.';
  } else {
    head.classList.add('is-stopped');
    title.textContent = statusSentence(order.status);
    lede.textContent = order.status === 'draft' ? 'Review it and continue to checkout when you are ready.' : 'Contact us if this is not what you expected.';
    if (order.status === 'draft') notice.replaceWith(el('p', {}, el('a', { class: 'btn btn-primary', href: `/summary?order=${order.id}`, text: 'Review the order' })));
  }
}

async function start() {
  if (!orderId) {
    head.classList.add('is-stopped');
    title.textContent = 'No order to confirm';
    lede.textContent = 'Your orders are listed under My orders.';
    renderMyOrders(myOrders, { promptSignIn: false, progress: false, details: false });
    return;
  }
  try {
    products = new Map((await loadCatalog()).products.map((p) => [p.id, p]));
  } catch {
    // Items still show, with their names, without the product pictures.
  }
  if (sessionId) {
    // Back from Checkout: the server asks Stripe about the session once, so the order shows
    // paid even when the webhook is late. Whatever it answers, the polling below follows.
    await postJSON('/api/checkout/fulfil', { order_id: orderId, session_id: sessionId }).catch(() => {});
  }
  poll();
}

start();
