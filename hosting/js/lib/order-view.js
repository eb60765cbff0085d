// How an order reads on every page that shows one: its items (mockup, color, sizes, prices),
// its totals and its status.

import { el } from './dom.js';
import { formatMoney } from './format.js';
import { findColor, garmentFrame, tintGarment } from './products.js';
import { designPreviews } from './store.js';

export const STATUS_LABELS = {
  draft: 'Draft',
  pending_payment: 'Awaiting payment',
  paid: 'Paid',
  fulfilled: 'Shipped',
  refunded: 'Refunded',
  cancelled: 'Cancelled',
};

export function statusBadge(status) {
  return el('span', { class: `badge badge-${status}`, text: STATUS_LABELS[status] ?? status });
}

export function money(cents, order) {
  return formatMoney(cents, order.currency);
}

export function sizesText(sizes) {
  return Object.entries(sizes)
    .map(([size, quantity]) => (size === 'OS' ? `${quantity}` : `${quantity} ${size}`))
    .join(' · ');
}

export function pieces(quantity) {
  return `${quantity.toLocaleString()} piece${quantity === 1 ? '' : 's'}`;
}

/** The item as designed: its mockup (this browser's preview first, else the order's), else the dyed blank. */
export function itemMedia(item, product) {
  const preview = designPreviews.get(item.design_id) ?? (item.mockups?.front ? item.mockups : null);
  const name = product?.name ?? item.product_name;
  const wrapper = el('div', { class: 'item-media' });
  const side = preview?.side === 'back' ? 'back' : 'front';
  if (preview?.[side]) {
    wrapper.append(el('img', { src: preview[side], alt: `${name} in ${item.color}, your design (${side})`, width: 1024, height: 1024, loading: 'lazy', decoding: 'async' }));
  } else if (product) {
    const color = findColor(product, item.color);
    wrapper.append(garmentFrame(product.image_url, `${name} in ${item.color}`));
    tintGarment(wrapper, color);
  }
  return wrapper;
}

/** Pieces, list price, volume savings and total, as a description list. */
export function totalsList(order) {
  const rows = [
    ['Pieces', order.quantity.toLocaleString()],
    ['List price', money(order.total_cents + order.savings_cents, order)],
  ];
  if (order.savings_cents > 0) rows.push(['Volume savings', `−${money(order.savings_cents, order)}`, 'is-saving']);
  return el(
    'dl',
    { class: 'totals-list' },
    rows.map(([term, value, tone]) => el('div', { class: `totals-row ${tone ?? ''}` }, el('dt', { text: term }), el('dd', { text: value }))),
    el('div', { class: 'totals-row totals-grand' }, el('dt', { text: 'Total' }), el('dd', { text: money(order.total_cents, order) })),
  );
}

/** One line of an order, for the summary and confirmation pages. */
export function itemSummary(item, product, order, { actions = null } = {}) {
  const upcharged = item.size_prices.filter((s) => s.upcharge_cents > 0);
  return el(
    'li',
    { class: 'summary-item' },
    itemMedia(item, product),
    el(
      'div',
      { class: 'summary-item-body' },
      el('h3', { class: 'summary-item-title', text: item.product_name }),
      el('p', { class: 'summary-item-meta', text: `${item.color} · ${pieces(item.quantity)}` }),
      el('p', { class: 'size-chips' }, el('span', { class: 'visually-hidden', text: `Sizes: ${sizesText(item.sizes)}` }), Object.entries(item.sizes).map(([size, quantity]) => el('span', { class: 'size-chip', 'aria-hidden': 'true' }, el('strong', { text: String(quantity) }), size === 'OS' ? ' one size' : ` ${size}`))),
      el(
        'p',
        { class: 'summary-item-price' },
        `${money(item.unit_price_cents, order)} each`,
        upcharged.length ? ` (${upcharged.map((s) => `${s.size} +${money(s.upcharge_cents, order)}`).join(', ')})` : '',
        item.savings_cents > 0 ? el('span', { class: 'saving-note', text: ` · you save ${money(item.savings_cents, order)}` }) : '',
      ),
      actions,
    ),
    el('p', { class: 'summary-item-total' }, el('span', { class: 'visually-hidden', text: 'Line total: ' }), money(item.line_total_cents, order)),
  );
}
