// How an order reads on every page that shows one: its items (mockup, color, sizes, prices),
// its totals, its status and its progress (the timeline, tracking and refunds).

import { el } from './dom.js';
import { formatMoney } from './format.js';
import { zoomableMockup } from './mockup-zoom.js';
import { findColor, garmentFrame, tintGarment } from './products.js';
import { designPreviews } from './store.js';

export const STATUS_LABELS = {
  draft: 'Draft',
  pending_payment: 'Awaiting payment',
  paid: 'Paid',
  in_production: 'In production',
  shipped: 'Shipped',
  delivered: 'Delivered',
  refunded: 'Refunded',
  cancelled: 'Cancelled',
};

/** Statuses a charge was taken for, whatever happened since (the server's PAID_STATES). */
export const PAID_STATUSES = new Set(['paid', 'in_production', 'shipped', 'delivered', 'refunded']);

/** Whether the order (or status) has been paid for. */
export function isPaid(orderOrStatus) {
  return PAID_STATUSES.has(typeof orderOrStatus === 'string' ? orderOrStatus : orderOrStatus?.status);
}

/** "This order has shipped": the status as a sentence, for notices and headings. */
export function statusSentence(status) {
  const sentences = {
    draft: 'This order is not paid yet',
    pending_payment: 'This order is awaiting payment',
    paid: 'This order is paid',
    in_production: 'This order is in production',
    shipped: 'This order has shipped',
    delivered: 'This order was delivered',
    refunded: 'This order was refunded',
    cancelled: 'This order was cancelled',
  };
  return sentences[status] ?? `This order is ${status}`;
}

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

// ---- Mockups: every printed side, each opening larger ------------------------------------------

const SIDE_LABELS = { front: 'Front', back: 'Back' };
/**
 * The sides of an item worth showing: those with something printed when that is known (this
 * browser's copy of the design, or the print files of a paid order), else front and back.
 */
export function itemSides(item) {
  const known = designPreviews.get(item.design_id)?.sides ?? item.printed_sides ?? Object.keys(item.print_files ?? {});
  const sides = ['front', 'back'].filter((side) => known.includes(side));
  return sides.length ? sides : ['front', 'back'];
}

/**
 * The item as designed: its mockup of every printed side (the order's, else this browser's
 * copy), each opening larger; else the dyed blank.
 */
export function itemMedia(item, product, { sides = itemSides(item) } = {}) {
  const mockups = item.mockups?.front ? item.mockups : designPreviews.get(item.design_id);
  const name = product?.name ?? item.product_name;
  const wrapper = el('div', { class: 'item-media' });
  const shown = sides.filter((side) => mockups?.[side]);
  if (shown.length) {
    wrapper.classList.add('item-mockups');
    wrapper.append(...shown.map((side) => zoomableMockup(mockups[side], `${name} in ${item.color}, your design, ${side}`, { label: SIDE_LABELS[side] })));
  } else if (product) {
    const color = findColor(product, item.color);
    wrapper.append(garmentFrame(product.image_url, `${name} in ${item.color}`));
    tintGarment(wrapper, color);
  }
  return wrapper;
}

// ---- Prices: every equation shows its parts ----------------------------------------------------

/** pieces × tier price + size upcharges = line total, as numbers (cents), as the server sums it. */
export function priceParts(item) {
  const upcharges = item.size_prices
    .filter((s) => s.upcharge_cents > 0)
    .map((s) => ({ size: s.size, quantity: s.quantity, cents: s.upcharge_cents }));
  return {
    pieces: item.pieces ?? item.quantity,
    unit: item.tier_unit_price_cents ?? item.unit_price_cents,
    upcharges,
    upchargeTotal: item.upcharges_cents ?? upcharges.reduce((sum, u) => sum + u.quantity * u.cents, 0),
    total: item.line_total_cents,
  };
}

/** "24 pieces × $39.50 + $6.00 for larger sizes = $954.00" (a `data-equation` line). */
export function priceEquation(item, order, { className = 'price-equation' } = {}) {
  const parts = priceParts(item);
  return el(
    'p',
    { class: `equation ${className}`, dataset: { equation: 'line' } },
    el('strong', { text: pieces(parts.pieces) }),
    ` × ${money(parts.unit, order)}`,
    parts.upchargeTotal ? ` + ${money(parts.upchargeTotal, order)} for larger sizes` : '',
    ' = ',
    el('strong', { class: 'equation-total', text: money(parts.total, order) }),
  );
}

/** "Larger sizes: 2 × $3.00 (2XL) + 1 × $6.00 (3XL) = $12.00", or null without upcharges. */
export function upchargeEquation(item, order) {
  const parts = priceParts(item);
  if (!parts.upcharges.length) return null;
  return el(
    'p',
    { class: 'equation upcharge-equation', dataset: { equation: 'upcharges' } },
    'Larger sizes cost more per piece: ',
    parts.upcharges.map((u, i) => `${i ? ' + ' : ''}${u.quantity} × ${money(u.cents, order)} (${u.size})`).join(''),
    ` = ${money(parts.upchargeTotal, order)}`,
  );
}

/**
 * Pieces, list price, volume savings, shipping once it is chosen, and the total, as a
 * description list: the rows above the line add up to the total. Before checkout the total
 * is before shipping, which Stripe adds.
 */
export function totalsList(order) {
  const subtotal = order.subtotal_cents ?? order.total_cents;
  const rows = [
    ['Pieces', order.quantity.toLocaleString(), 'is-count'],
    ['List price', money(subtotal + order.savings_cents, order), 'is-list'],
  ];
  if (order.savings_cents > 0) rows.push(['Volume savings', `−${money(order.savings_cents, order)}`, 'is-saving']);
  const shipped = order.shipping_cents !== null && order.shipping_cents !== undefined;
  if (shipped) {
    rows.push([order.shipping?.name ?? 'Shipping', order.shipping_cents ? money(order.shipping_cents, order) : 'Free', 'is-shipping']);
  }
  const beforeShipping = !shipped && order.shipping_options?.length > 0;
  return el(
    'dl',
    { class: 'totals-list' },
    rows.map(([term, value, tone]) => el('div', { class: `totals-row ${tone ?? ''}` }, el('dt', { text: term }), el('dd', { text: value }))),
    el('div', { class: 'totals-row totals-grand' }, el('dt', { text: beforeShipping ? 'Total before shipping' : 'Total' }), el('dd', { text: money(order.total_cents, order) })),
  );
}

/** Where the shopper edits the design of an item (the studio, on that design). */
export function designUrl(item) {
  return item.design_id ? `/studio?design=${encodeURIComponent(item.design_id)}` : null;
}

/** "Edit design" for an item made in the studio; null for a blank. */
export function editDesignLink(item, { className = 'text-link' } = {}) {
  const href = designUrl(item);
  return href ? el('a', { class: className, href }, 'Edit design', el('span', { class: 'visually-hidden', text: ` of ${item.product_name}, ${item.color}` })) : null;
}

/** One line of an order, for the summary and confirmation pages. */
export function itemSummary(item, product, order, { actions = null } = {}) {
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
      priceEquation(item, order, { className: 'summary-item-price' }),
      upchargeEquation(item, order),
      item.savings_cents > 0 ? el('p', { class: 'saving-note summary-saving', text: `You save ${money(item.savings_cents, order)} with volume pricing.` }) : null,
      actions,
    ),
    el('p', { class: 'summary-item-total' }, el('span', { class: 'visually-hidden', text: 'Line total: ' }), money(item.line_total_cents, order)),
  );
}

// ---- Progress: the statuses the order took, its parcel, its refunds ---------------------------

// The steps a shopper follows; draft and checkout steps are theirs to know already.
const TIMELINE_STATUSES = new Set([...PAID_STATUSES, 'cancelled']);
const stepTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
const stepTimeWithYear = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });

function when(iso) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return null;
  const format = at.getFullYear() === new Date().getFullYear() ? stepTime : stepTimeWithYear;
  return el('time', { class: 'timeline-time', datetime: at.toISOString(), text: format.format(at) });
}

/** "UPS 1Z999…" (the number linked to the carrier's page when there is one). */
function parcel(tracking) {
  const number = tracking.url ? el('a', { class: 'tracking-number', href: tracking.url, rel: 'noopener noreferrer', text: tracking.number }) : el('span', { class: 'tracking-number', text: tracking.number });
  return [tracking.carrier ? `${tracking.carrier} ` : 'Tracking number ', number];
}

/** The shopper-facing steps: one per status the order took, in order, without repeats. */
export function timelineSteps(order) {
  const steps = [];
  for (const event of order.events ?? []) {
    if (!TIMELINE_STATUSES.has(event.status) || steps.at(-1)?.status === event.status) continue;
    steps.push(event);
  }
  return steps;
}

/**
 * The order's timeline as an ordered list ("Paid — Dec 1, 2:02 PM", "Shipped — …" with the
 * parcel), the latest step marked current; null until the order is paid (or cancelled).
 * Causes are not shown, except "by you" for the shopper's own steps.
 */
export function orderTimeline(order, { label = null, labelledBy = null } = {}) {
  const steps = timelineSteps(order);
  if (!steps.length) return null;
  return el(
    'ol',
    { class: 'order-timeline', 'aria-label': label, 'aria-labelledby': labelledBy },
    steps.map((step, index) => {
      const time = when(step.at);
      const latest = index === steps.length - 1;
      return el(
        'li',
        { class: `timeline-step timeline-${step.status}${latest ? ' is-latest' : ''}`, 'aria-current': latest ? 'step' : null },
        el('span', { class: 'timeline-line' }, el('span', { class: 'timeline-status', text: STATUS_LABELS[step.status] ?? step.status }), time ? [' — ', time] : null, step.cause === 'shopper' ? ' · by you' : null),
        step.status === 'shipped' && order.tracking?.number ? el('span', { class: 'timeline-detail' }, parcel(order.tracking)) : null,
      );
    }),
  );
}

/**
 * "Track your parcel" when the carrier has a tracking page; else the carrier and number as
 * text, unless the timeline's shipped step shows them already.
 */
export function trackingNote(order, { context = null } = {}) {
  const { tracking } = order;
  if (!tracking?.number) return null;
  if (tracking.url) {
    const name = context ? `Track your parcel (${context})` : null;
    return el('p', { class: 'order-tracking' }, el('a', { class: 'btn btn-primary track-link', href: tracking.url, rel: 'noopener noreferrer', 'aria-label': name, text: 'Track your parcel' }));
  }
  if (timelineSteps(order).some((step) => step.status === 'shipped')) return null;
  return el('p', { class: 'order-tracking order-tracking-text' }, `${tracking.carrier ? `${tracking.carrier} tracking` : 'Tracking'} number: `, el('span', { class: 'tracking-number', text: tracking.number }));
}

/** "Refunded $5.00 of $294.50" for a partial refund; the refunded status says the rest. */
export function refundNote(order) {
  if (!(order.refunded_cents > 0) || order.status === 'refunded') return null;
  return el('p', { class: 'order-refund', text: `Refunded ${money(order.refunded_cents, order)} of ${money(order.total_cents, order)}` });
}

/**
 * Timeline, refund and tracking together; null when there is nothing to show yet.
 * `headingId` titles the block with a visible h2 ("Progress") of that id; without it `label`
 * names the list, and `context` the tracking link (an order's row in My orders).
 */
export function orderProgress(order, { headingId = null, label = null, context = null } = {}) {
  const timeline = orderTimeline(order, { label: headingId ? null : label, labelledBy: headingId });
  const tracking = trackingNote(order, { context });
  const refund = refundNote(order);
  if (!timeline && !tracking && !refund) return null;
  return el(
    'div',
    { class: 'order-progress' },
    headingId && timeline ? el('h2', { class: 'meta-label', id: headingId, text: 'Progress' }) : null,
    timeline,
    refund,
    tracking,
  );
}
