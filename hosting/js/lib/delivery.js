// When an order arrives and what shipping adds: the server's arrival ranges (production, then
// transit, from today or from the day it was paid) and its shipping options, each priced for
// the order, which Stripe Checkout offers and adds to the total.

import { el } from './dom.js';
import { formatMoney } from './format.js';

const dayMonth = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric' });
const dayOnly = new Intl.DateTimeFormat('en-US', { day: 'numeric' });
const weekday = new Intl.DateTimeFormat('en-US', { weekday: 'short', month: 'short', day: 'numeric' });

/** "2026-12-11" as that calendar day (the server's dates have no time, no zone). */
function day(iso) {
  const [year, month, date] = iso.split('-').map(Number);
  return new Date(year, month - 1, date);
}

/** "Dec 11–15", "Nov 30 – Dec 2", or "Dec 11" when both ends are the same day. */
export function dateRange({ earliest, latest }) {
  const from = day(earliest);
  const to = day(latest);
  if (earliest === latest) return dayMonth.format(from);
  if (from.getMonth() === to.getMonth() && from.getFullYear() === to.getFullYear()) {
    return `${dayMonth.format(from)}–${dayOnly.format(to)}`;
  }
  return `${dayMonth.format(from)} – ${dayMonth.format(to)}`;
}

/** The range as a <time> pair a reader can read ("Dec 11–15"), with machine dates. */
function rangeNode(arrives) {
  return el('time', { datetime: arrives.latest, title: `${weekday.format(day(arrives.earliest))} to ${weekday.format(day(arrives.latest))}`, text: dateRange(arrives) });
}

/**
 * "Arrives Dec 15–17 with Standard shipping, or Dec 11–14 with Rush shipping" for a product
 * (`shipping_options` of the catalog) or an order not paid yet (its `shipping_options`).
 */
export function arrivalLine(options, { lead = 'Arrives', suffix = '' } = {}) {
  if (!options?.length) return null;
  const [first, ...rest] = options;
  return el(
    'p',
    { class: 'arrival' },
    el('strong', { class: 'arrival-lead', text: `${lead} ` }),
    rangeNode(first.arrives),
    ` with ${first.name}`,
    rest.flatMap((option) => [', or ', rangeNode(option.arrives), ` with ${option.name}`]),
    suffix,
  );
}

/** A paid order: "Dec 15–17 · Standard shipping", counted from the day it was paid (or null). */
export function paidArrival(order, { lead = 'Arrives' } = {}) {
  const shipping = order.shipping;
  if (!shipping?.arrives) return null;
  return el('p', { class: 'arrival' }, lead ? el('strong', { class: 'arrival-lead', text: `${lead} ` }) : null, rangeNode(shipping.arrives), shipping.name ? ` · ${shipping.name}` : '');
}

/**
 * The shipping options of an order not paid yet, as Stripe will offer them: each one's
 * price, its arrival and what the total becomes (`$960.00 + $24.95 shipping = $984.95`).
 */
export function shippingOptions(order, { headingLevel = 'h3' } = {}) {
  if (!order.shipping_options?.length) return null;
  const money = (cents) => formatMoney(cents, order.currency);
  return el(
    'section',
    { class: 'shipping-options', 'aria-labelledby': `shipping-${order.id}` },
    el(headingLevel, { class: 'shipping-title', id: `shipping-${order.id}`, text: 'Shipping, chosen at checkout' }),
    el(
      'ul',
      { class: 'shipping-list' },
      order.shipping_options.map((option) =>
        el(
          'li',
          { class: 'shipping-option' },
          el(
            'p',
            { class: 'shipping-name' },
            el('strong', { text: option.name }),
            ` · ${option.amount_cents ? money(option.amount_cents) : 'Free'} · arrives `,
            rangeNode(option.arrives),
          ),
          el(
            'p',
            { class: 'equation shipping-equation', dataset: { equation: 'shipping' } },
            `${money(order.subtotal_cents)} + ${money(option.amount_cents)} shipping = `,
            el('strong', { text: money(option.total_cents) }),
          ),
        ),
      ),
    ),
    el('p', { class: 'field-hint', text: 'You choose one on the secure checkout, and Stripe adds it to the total.' }),
  );
}
