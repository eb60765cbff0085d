// Page 3a, the catalog: the product grid, and a product's page (?product=id) with its colors,
// sizes and price tiers, "Design this", which opens the studio on that product, and the day's
// design ideas for it, each opening the studio with its brief.

import { describeError } from '../lib/api.js';
import { el } from '../lib/dom.js';
import { formatMoney } from '../lib/format.js';
import { arrivalLine } from '../lib/delivery.js';
import {
  featureColors,
  sizeChart,
  findColor,
  loadCatalog,
  productCard,
  productCardSkeleton,
  sideImage,
  sizeRange,
  swatches,
  tintGarment,
  garmentFrame,
} from '../lib/products.js';
import { showIdeas } from '../lib/suggestions.js';
import '../lib/site.js';

const listView = document.getElementById('catalog-view');
const productView = document.getElementById('product-view');
const grid = document.getElementById('catalog-grid');
const status = document.getElementById('catalog-status');
const notice = document.getElementById('catalog-notice');
const detail = document.getElementById('product-detail');
const crumb = document.getElementById('product-crumb');

function showNotice(target, { tone, title, detail: text, action }) {
  target.className = `notice notice-${tone}`;
  if (tone === 'error') target.setAttribute('role', 'alert');
  target.replaceChildren(el('div', {}, el('p', { class: 'notice-title', text: title }), el('p', { class: 'notice-detail', text })), action);
  target.hidden = false;
}

function retry(run) {
  return el('button', { class: 'btn btn-secondary', type: 'button', text: 'Try again', on: { click: run } });
}

// ---- the grid ------------------------------------------------------------------------------

async function showGrid() {
  listView.hidden = false;
  productView.hidden = true;
  document.title = 'Catalog · Auren';
  notice.hidden = true;
  grid.hidden = false;
  grid.setAttribute('aria-busy', 'true');
  grid.replaceChildren(...Array.from({ length: 6 }, productCardSkeleton));
  status.textContent = 'Loading products…';
  try {
    const { products } = await loadCatalog();
    if (!products.length) {
      grid.hidden = true;
      showNotice(notice, { tone: 'empty', title: 'The catalog is being restocked', detail: 'No products are available right now. Tell us what you need and we will help.', action: el('a', { class: 'btn btn-secondary', href: '/contact', text: 'Contact us' }) });
      return;
    }
    const colors = featureColors(products);
    grid.replaceChildren(...products.map((product) => productCard(product, colors.get(product.id))));
    status.textContent = `${products.length} products.`;
  } catch (error) {
    grid.hidden = true;
    showNotice(notice, { tone: 'error', ...describeError(error), action: retry(showGrid) });
  } finally {
    grid.removeAttribute('aria-busy');
  }
}

// ---- one product ---------------------------------------------------------------------------

function tierTable(product) {
  const money = (cents) => formatMoney(cents, product.currency);
  const tiers = [{ min_quantity: 1, unit_price_cents: product.base_price_cents }, ...product.price_tiers.filter((t) => t.min_quantity > 1)];
  return el(
    'table',
    { class: 'tier-table' },
    el('caption', { class: 'visually-hidden', text: `Price per piece of the ${product.name} by quantity` }),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Quantity' }), el('th', { scope: 'col', text: 'Price each' }), el('th', { scope: 'col', text: 'You save' }))),
    el(
      'tbody',
      {},
      tiers.map((tier, i) => {
        const next = tiers[i + 1];
        const range = next ? `${tier.min_quantity}–${next.min_quantity - 1}` : `${tier.min_quantity}+`;
        const saving = product.base_price_cents - tier.unit_price_cents;
        const percent = Math.round((saving / product.base_price_cents) * 100);
        return el('tr', {}, el('th', { scope: 'row', text: range }), el('td', { text: money(tier.unit_price_cents) }), el('td', { text: saving > 0 ? `${percent}%` : '—' }));
      }),
    ),
  );
}

/** Shipping: when it arrives if ordered today, at each rate, and what each rate costs. */
function delivery(product, rates) {
  const money = (cents) => formatMoney(cents, product.currency);
  const prices = (rates ?? []).map((rate) => {
    const price = rate.amount_cents ? money(rate.amount_cents) : 'free';
    return rate.free_over_cents ? `${rate.name}: ${price}, free on orders over ${money(rate.free_over_cents)}` : `${rate.name}: ${price}`;
  });
  const days = product.production_days ? `We make it in ${product.production_days} business days, then ship it. ` : '';
  return el(
    'div',
    { class: 'product-option' },
    el('h2', { class: 'option-title', text: 'Delivery' }),
    arrivalLine(product.shipping_options, { lead: 'Order today: arrives', suffix: '.' }),
    prices.length || days ? el('p', { class: 'field-hint', text: `${days}${prices.join('. ')}${prices.length ? '.' : ''}` }) : null,
  );
}

function renderProduct(product, requestedColor, rates = []) {
  let color = findColor(product, requestedColor) ?? featureColors([product]).get(product.id) ?? product.colors[0];
  let side = 'front';
  const money = (cents) => formatMoney(cents, product.currency);
  document.title = `${product.name} · Auren`;
  crumb.textContent = product.name;

  const stage = el('div', { class: 'product-stage' });
  const sides = el('div', { class: 'segmented', role: 'radiogroup', 'aria-label': 'Show side' });
  const designLink = el('a', { class: 'btn btn-primary btn-lg', text: 'Design this' });
  const colorName = el('span', { class: 'product-color-name' });
  const ideas = el('section', { class: 'product-option product-ideas', id: 'product-ideas', hidden: true });

  function drawStage() {
    const frame = garmentFrame(sideImage(product, side), `${product.name} in ${color.name}, ${side}`, { lazy: false });
    stage.replaceChildren(frame);
    tintGarment(stage, color);
  }

  function update() {
    drawStage();
    colorName.textContent = color.name;
    designLink.href = `/studio?${new URLSearchParams({ product: product.id, color: color.name })}`;
    const url = new URL(window.location.href);
    url.searchParams.set('color', color.name);
    history.replaceState(null, '', url);
  }

  const sideNames = product.print_areas.map((a) => a.name);
  for (const name of sideNames) {
    const button = el('button', { type: 'button', role: 'radio', 'aria-checked': String(name === side), text: name === 'back' ? 'Back' : 'Front' });
    button.addEventListener('click', () => {
      side = name;
      for (const b of sides.children) b.setAttribute('aria-checked', String(b === button));
      drawStage();
    });
    sides.append(button);
  }

  const upcharges = Object.entries(product.size_upcharges ?? {});
  detail.replaceChildren(
    el(
      'article',
      { class: 'product-detail', 'aria-labelledby': 'product-title' },
      el('div', { class: 'product-gallery' }, stage, sideNames.length > 1 ? sides : null),
      el(
        'div',
        { class: 'product-info' },
        el('p', { class: 'eyebrow', text: product.category }),
        el('h1', { class: 'page-title', id: 'product-title', tabindex: '-1', text: product.name }),
        el('p', { class: 'page-lede', text: product.description }),
        el('p', { class: 'product-from' }, 'From ', el('strong', { text: money(Math.min(product.base_price_cents, ...product.price_tiers.map((t) => t.unit_price_cents))) }), ' each in bulk · ', money(product.base_price_cents), ' for one'),
        el(
          'div',
          { class: 'product-option' },
          el('h2', { class: 'option-title' }, 'Color: ', colorName),
          swatches(product, color, (chosen) => {
            color = chosen;
            update();
          }, { legend: `Color of the ${product.name}` }),
        ),
        el(
          'div',
          { class: 'product-option' },
          el('h2', { class: 'option-title', text: `Sizes: ${sizeRange(product.sizes)}` }),
          el('ul', { class: 'size-list', 'aria-label': 'Available sizes' }, product.sizes.map((size) => el('li', { class: 'size-pill', text: size === 'OS' ? 'One size' : size }))),
          upcharges.length ? el('p', { class: 'field-hint', text: `Larger sizes: ${upcharges.map(([size, cents]) => `${size} +${money(cents)}`).join(', ')} per piece.` }) : null,
          sizeChart(product),
        ),
        product.shipping_options?.length ? delivery(product, rates) : null,
        el('div', { class: 'product-option' }, el('h2', { class: 'option-title', text: 'Volume pricing' }), tierTable(product), el('p', { class: 'field-hint', text: 'Mix sizes freely: every piece of one design counts toward its tier.' })),
        el('div', { class: 'product-cta' }, designLink, el('p', { class: 'field-hint', text: 'Describe your idea to the assistant, upload artwork or add text in the studio. You choose sizes after.' })),
        ideas,
      ),
    ),
  );
  update();
  showIdeas(ideas, product.id, { heading: `Ideas for your ${product.name}` });
}

async function showProduct(productId, colorName) {
  listView.hidden = true;
  productView.hidden = false;
  detail.replaceChildren(el('div', { class: 'product-detail is-loading', 'aria-hidden': 'true' }, el('span', { class: 'skeleton product-stage' }), el('span', { class: 'skeleton skeleton-block' })));
  try {
    const { products, shipping_rates: rates } = await loadCatalog();
    const product = products.find((p) => p.id === productId);
    if (!product) {
      crumb.textContent = 'Not found';
      const box = el('div', { class: 'notice' });
      detail.replaceChildren(box);
      showNotice(box, { tone: 'empty', title: 'We do not sell this product', detail: 'It may have been retired. Have a look at the rest of the catalog.', action: el('a', { class: 'btn btn-secondary', href: '/catalog', text: 'See the catalog' }) });
      return;
    }
    renderProduct(product, colorName, rates);
  } catch (error) {
    const box = el('div', { class: 'notice' });
    detail.replaceChildren(box);
    showNotice(box, { tone: 'error', ...describeError(error), action: retry(() => showProduct(productId, colorName)) });
  }
}

const params = new URLSearchParams(window.location.search);
if (params.get('product')) showProduct(params.get('product'), params.get('color'));
else showGrid();
