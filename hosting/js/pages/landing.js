// Page 1: the hero's wave background and the featured products grid.

import { describeError, getJSON } from '../lib/api.js';
import { el } from '../lib/dom.js';
import { featureColors, productCard, productCardSkeleton } from '../lib/products.js';
import '../lib/site.js';
import { createWave } from '../lib/wave.js';

const FEATURED_COUNT = 6;

const canvas = document.querySelector('.hero-canvas');
if (canvas) createWave(canvas).start();

const grid = document.getElementById('featured-grid');
const status = document.getElementById('featured-status');
const notice = document.getElementById('featured-notice');

let loading = null;
let countdown = 0;

function showSkeletons() {
  grid.replaceChildren(...Array.from({ length: FEATURED_COUNT }, productCardSkeleton));
  grid.setAttribute('aria-busy', 'true');
  grid.hidden = false;
  notice.hidden = true;
  notice.replaceChildren();
  status.textContent = 'Loading products…';
}

function showProducts(products) {
  const featured = products.slice(0, FEATURED_COUNT);
  const colors = featureColors(featured);
  grid.replaceChildren(...featured.map((product) => productCard(product, colors.get(product.id))));
  grid.removeAttribute('aria-busy');
  status.textContent = `${featured.length} products loaded.`;
}

// Errors are announced by the notice itself (role=alert); anything else by the status line.
function showNotice({ tone, title, detail, action }) {
  grid.hidden = true;
  grid.removeAttribute('aria-busy');
  grid.replaceChildren();
  status.textContent = tone === 'error' ? '' : title;
  notice.className = `notice notice-${tone}`;
  if (tone === 'error') notice.setAttribute('role', 'alert');
  else notice.removeAttribute('role');
  notice.replaceChildren(
    el('div', { class: 'notice-text' }, el('p', { class: 'notice-title', text: title }), el('p', { class: 'notice-detail', text: detail })),
    action,
  );
  notice.hidden = false;
}

// When the server sent Retry-After (429, 503), the button waits it out, counting down on its label.
// aria-disabled rather than disabled, so a focused button keeps focus while it waits.
function retryButton(waitSeconds) {
  const button = el('button', { class: 'btn btn-secondary', type: 'button', text: 'Try again' });
  button.addEventListener('click', () => {
    if (button.getAttribute('aria-disabled') !== 'true') loadFeatured();
  });
  clearInterval(countdown);
  if (waitSeconds > 0) {
    let left = waitSeconds;
    const tickDown = () => {
      button.setAttribute('aria-disabled', String(left > 0));
      button.textContent = left > 0 ? `Try again in ${left} s` : 'Try again';
      if (left-- <= 0) clearInterval(countdown);
    };
    tickDown();
    countdown = setInterval(tickDown, 1000);
  }
  return button;
}

// A Retry click replaces the button it came from; keep keyboard focus somewhere sensible.
function restoreFocus(hadFocus) {
  if (!hadFocus) return;
  (notice.hidden ? document.getElementById('featured-title') : notice.querySelector('button, a'))?.focus();
}

async function loadFeatured() {
  if (loading) return;
  const hadFocus = notice.contains(document.activeElement);
  clearInterval(countdown);
  showSkeletons();
  loading = getJSON('/api/catalog');
  try {
    const { products } = await loading;
    if (!products?.length) {
      showNotice({
        tone: 'empty',
        title: 'The catalog is being restocked',
        detail: 'No products are available right now. Check back soon, or tell us what you need.',
        action: el('a', { class: 'btn btn-secondary', href: '/contact', text: 'Contact us' }),
      });
      return;
    }
    showProducts(products);
  } catch (error) {
    const { title, detail } = describeError(error);
    showNotice({ tone: 'error', title, detail, action: retryButton(error.retryAfter ?? 0) });
  } finally {
    loading = null;
    restoreFocus(hadFocus);
  }
}

loadFeatured();
