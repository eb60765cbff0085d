// Product presentation shared by every page that lists catalog products.

import { getJSON } from './api.js';
import { el } from './dom.js';
import { formatMoney } from './format.js';

const HEX = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;
// Image URLs the dye mask may reference: our own paths, or the asset bucket.
const SAFE_URL = /^(?:\/(?!\/)|https:\/\/storage\.googleapis\.com\/)[\w\-./%]+$/;
const SAME_ORIGIN_PATH = /^\/(?!\/)/;

function channels(hex) {
  const full = hex.length === 4 ? hex.replace(/[0-9a-f]/gi, '$&$&') : hex;
  return [1, 3, 5].map((i) => parseInt(full.slice(i, i + 2), 16));
}

function chroma(hex) {
  const rgb = channels(hex);
  return Math.max(...rgb) - Math.min(...rgb);
}

function hue(hex) {
  const [r, g, b] = channels(hex);
  const max = Math.max(r, g, b);
  const delta = max - Math.min(r, g, b);
  if (delta === 0) return 0;
  const sector = max === r ? (g - b) / delta + 6 : max === g ? (b - r) / delta + 2 : (r - g) / delta + 4;
  return (sector * 60) % 360;
}

function hueDistance(a, b) {
  const d = Math.abs(hue(a) - hue(b));
  return Math.min(d, 360 - d);
}

const GREYISH_CHROMA = 20;
const DISTINCT_HUE = 35;

/**
 * The color each product shows first. The most colorful option shows a garment off best, and
 * a grid reads better when neighbours differ, so a color whose hue an earlier product already
 * shows gives way to the next most colorful one.
 */
export function featureColors(products) {
  const shown = [];
  return new Map(
    products.map((product) => {
      const colors = product.colors.filter((c) => HEX.test(c.hex)).sort((a, b) => chroma(b.hex) - chroma(a.hex));
      const distinct = colors.find(
        (c) => chroma(c.hex) >= GREYISH_CHROMA && shown.every((hex) => hueDistance(hex, c.hex) >= DISTINCT_HUE),
      );
      const color = distinct ?? colors[0] ?? null;
      if (color && chroma(color.hex) >= GREYISH_CHROMA) shown.push(color.hex);
      return [product.id, color];
    }),
  );
}

/** The lowest unit price any quantity reaches, and the quantity that reaches it. */
export function lowestPrice(product) {
  return product.price_tiers.reduce(
    (best, tier) => (tier.unit_price_cents < best.cents ? { cents: tier.unit_price_cents, quantity: tier.min_quantity } : best),
    { cents: product.base_price_cents, quantity: 1 },
  );
}

/** The first volume tier, the one most shoppers can reach. */
export function firstBulkTier(product) {
  return [...product.price_tiers]
    .filter((tier) => tier.min_quantity > 1 && tier.unit_price_cents < product.base_price_cents)
    .sort((a, b) => a.min_quantity - b.min_quantity)[0] ?? null;
}

export function sizeRange(sizes) {
  if (sizes.length === 0) return '';
  if (sizes.length === 1) return sizes[0] === 'OS' ? 'One size' : sizes[0];
  return `${sizes[0]}–${sizes[sizes.length - 1]}`;
}

function categoryLabel(category) {
  return category.charAt(0).toUpperCase() + category.slice(1);
}

/** The product's page, showing `color` when one is given (the color picked on its card). */
export function productUrl(product, color = null) {
  return `/catalog?${new URLSearchParams(color ? { product: product.id, color: color.name } : { product: product.id })}`;
}

/** Dye the `.garment` frames inside `node`: CSS multiplies the template's greys by the color. */
export function tintGarment(node, color) {
  if (color) node.style.setProperty('--garment-color', color.hex);
}

let catalogRequest = null;

/** The catalog, fetched once per page; a failed fetch is forgotten so a retry asks again. */
export function loadCatalog() {
  catalogRequest ??= getJSON('/api/catalog').catch((error) => {
    catalogRequest = null;
    throw error;
  });
  return catalogRequest;
}

export function findColor(product, name) {
  const wanted = (name ?? '').trim().toLowerCase();
  return product.colors.find((c) => c.name.toLowerCase() === wanted) ?? null;
}

/** The template image of one side of a product (its print area's template). */
export function sideImage(product, side) {
  return product.print_areas.find((area) => area.name === side)?.template_url ?? product.image_url;
}

function garment(product, color) {
  return garmentFrame(product.image_url, color ? `${product.name} in ${color.name}` : product.name);
}

/** A `.garment` frame: the product template, dyed by `--garment-color` once it has loaded. */
export function garmentFrame(url, alt, { lazy = true } = {}) {
  const image = el('img', {
    src: url,
    alt,
    width: 1024,
    height: 1024,
    // CORS mode like the mask's own fetch, so both share one download.
    crossorigin: SAME_ORIGIN_PATH.test(url) ? 'anonymous' : null,
    loading: lazy ? 'lazy' : null,
    decoding: 'async',
  });
  const frame = el('div', { class: 'garment', dataset: { state: 'loading' } }, image);
  // Dye only once the image is in: the mask reuses it, and a lazy image never shows as a flat shape.
  image.addEventListener('load', () => {
    if (SAFE_URL.test(url)) {
      frame.style.setProperty('--garment-image', `url("${url}")`);
      delete frame.dataset.state;
    } else {
      frame.dataset.state = 'plain';
    }
  }, { once: true });
  image.addEventListener('error', () => {
    frame.dataset.state = 'missing';
  }, { once: true });
  return frame;
}

/** A radio group of color swatches (one tab stop); `onChange(color)` on every choice. */
export function swatches(product, selected, onChange, { legend = `Color for ${product.name}`, name = `color-${product.id}` } = {}) {
  const current = el('span', { class: 'swatch-current', text: selected?.name ?? '' });
  const options = product.colors
    .filter((c) => HEX.test(c.hex))
    .map((color) => {
      const input = el('input', {
        class: 'swatch-input',
        type: 'radio',
        name,
        value: color.name,
        checked: color === selected,
        on: {
          change: () => {
            current.textContent = color.name;
            onChange(color);
          },
        },
      });
      const label = el('label', { class: 'swatch', title: color.name }, input, el('span', { class: 'swatch-dot' }), el('span', { class: 'visually-hidden', text: color.name }));
      label.style.setProperty('--swatch', color.hex);
      return label;
    });
  return el(
    'fieldset',
    { class: 'swatches' },
    el('legend', { class: 'visually-hidden', text: legend }),
    el('div', { class: 'swatch-list' }, options),
    current,
  );
}

function price(product) {
  const lowest = lowestPrice(product);
  const bulk = firstBulkTier(product);
  const money = (cents) => formatMoney(cents, product.currency);
  return el(
    'div',
    { class: 'product-price' },
    el(
      'p',
      { class: 'price-from' },
      'From ',
      el('strong', { class: 'price-amount', text: money(lowest.cents) }),
      el('span', { class: 'price-unit', text: lowest.quantity > 1 ? ` each at ${lowest.quantity}+` : ' each' }),
    ),
    bulk && el('p', { class: 'price-bulk', text: `${bulk.min_quantity}+ from ${money(bulk.unit_price_cents)}` }),
  );
}

/** A catalog card: tinted product image, name, colors to try, and the price ladder in short. */
export function productCard(product, color = featureColors([product]).get(product.id)) {
  const frame = garment(product, color);
  const image = frame.querySelector('img');
  const titleId = `product-${product.id}`;
  // The card's link opens the product in the color picked on the card.
  const link = el('a', { href: productUrl(product, color), text: product.name });
  const card = el(
    'li',
    { class: 'product-card' },
    el(
      'article',
      { class: 'product-card-inner', 'aria-labelledby': titleId },
      el('div', { class: 'product-media' }, frame),
      el(
        'div',
        { class: 'product-body' },
        el('p', { class: 'product-meta', text: [categoryLabel(product.category), sizeRange(product.sizes)].filter(Boolean).join(' · ') }),
        el('h3', { class: 'product-name', id: titleId }, link),
        product.description && el('p', { class: 'product-desc', text: product.description }),
        swatches(product, color, (chosen) => {
          tintGarment(card, chosen);
          image.alt = `${product.name} in ${chosen.name}`;
          link.href = productUrl(product, chosen);
        }),
        price(product),
      ),
    ),
  );
  tintGarment(card, color);
  return card;
}

/**
 * The product's size chart (chest and length of each size, in inches), as a disclosure that
 * opens in place; null for a product in one size.
 */
export function sizeChart(product, { open = false } = {}) {
  if (!product?.size_chart?.length) return null;
  const inches = (value) => `${Number(value).toLocaleString('en-US', { maximumFractionDigits: 1 })}″`;
  return el(
    'details',
    { class: 'size-chart', open },
    el('summary', { class: 'size-chart-toggle' }, 'Size chart', el('span', { class: 'visually-hidden', text: ` of the ${product.name}` })),
    el(
      'table',
      { class: 'size-chart-table' },
      el('caption', { class: 'size-chart-caption', text: 'Measured flat, in inches: chest from armpit to armpit, length from the shoulder to the hem.' }),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Size' }), el('th', { scope: 'col', text: 'Chest' }), el('th', { scope: 'col', text: 'Length' }))),
      el('tbody', {}, product.size_chart.map((row) => el('tr', {}, el('th', { scope: 'row', text: row.size }), el('td', { text: inches(row.chest_in) }), el('td', { text: inches(row.length_in) })))),
    ),
  );
}

/** A placeholder with the card's shape, shown while products load. */
export function productCardSkeleton() {
  return el(
    'li',
    { class: 'product-card is-skeleton', 'aria-hidden': 'true' },
    el(
      'div',
      { class: 'product-card-inner' },
      el('div', { class: 'product-media skeleton' }),
      el(
        'div',
        { class: 'product-body' },
        el('span', { class: 'skeleton skeleton-text skeleton-short' }),
        el('span', { class: 'skeleton skeleton-title' }),
        el('span', { class: 'skeleton skeleton-text' }),
        el('span', { class: 'skeleton skeleton-text skeleton-mid' }),
        el('span', { class: 'skeleton skeleton-swatches' }),
        el('span', { class: 'skeleton skeleton-price' }),
      ),
    ),
  );
}
