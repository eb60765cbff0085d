// Design ideas for a product (GET /api/suggestions), made by the design assistant once a day:
// the product page and the empty studio show them, each a click away from the studio with its
// brief. The studio reads a picked idea back from its URL (?idea=...).

import { getJSON } from './api.js';
import { el } from './dom.js';

const loaded = new Map();

/** The day's ideas for a product, fetched once per page. */
export function loadIdeas(productId) {
  if (!loaded.has(productId)) {
    const request = getJSON(`/api/suggestions?${new URLSearchParams({ product_id: productId })}`);
    request.catch(() => loaded.delete(productId));
    loaded.set(productId, request);
  }
  return loaded.get(productId);
}

/** The studio, opened on an idea: its brief travels in the URL. */
export function studioUrl(idea) {
  return `/studio?${new URLSearchParams({ idea: JSON.stringify(idea.brief) })}`;
}

/** The brief of the idea the studio was opened on (?idea=...), or null. */
export function ideaFromUrl(params) {
  try {
    const brief = JSON.parse(params.get('idea') ?? 'null');
    return brief && typeof brief === 'object' && typeof brief.product_id === 'string' ? brief : null;
  } catch {
    return null;
  }
}

/**
 * Resolves once `root` is on screen (or nearly): ideas are asked for only when someone can see
 * them, because the day's first request of a product makes them, which takes seconds.
 */
function whenSeen(root) {
  return new Promise((resolve) => {
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) {
        observer.disconnect();
        resolve();
      }
    }, { rootMargin: '200px' });
    observer.observe(root);
  });
}

/**
 * Show `productId`'s ideas in `root` once it is seen (and still shown `settleMs` later): each
 * its mockup and title, as a link to the studio (`onPick` absent) or a button calling
 * `onPick(brief, idea)`. When none load, `root` hides and `root.dataset.empty` is set.
 */
export async function showIdeas(root, productId, { heading = 'Ideas to start from', onPick = null, settleMs = 0 } = {}) {
  root.dataset.product = productId;
  delete root.dataset.empty;
  const headingId = `${root.id || 'ideas'}-title`;
  root.setAttribute('aria-labelledby', headingId);
  root.replaceChildren(el('h2', { class: 'option-title', id: headingId, text: heading }), el('p', { class: 'field-hint', text: 'Loading ideas…' }));
  root.hidden = false;
  await whenSeen(root);
  if (settleMs) await new Promise((resolve) => setTimeout(resolve, settleMs));
  if (root.dataset.product !== productId) return; // another product was picked meanwhile
  if (root.hidden) {
    delete root.dataset.product; // not wanted now (the design filled up): asked again later
    return;
  }
  let ideas = [];
  try {
    ({ suggestions: ideas } = await loadIdeas(productId));
  } catch {
    ideas = [];
  }
  if (root.dataset.product !== productId) return; // another product was picked meanwhile
  if (!ideas.length) {
    root.dataset.empty = '1';
    root.hidden = true;
    return;
  }
  root.replaceChildren(
    el('h2', { class: 'option-title', id: headingId, text: heading }),
    el(
      'ul',
      { class: 'idea-list' },
      ideas.map((idea) => {
        const picture = el('img', { class: 'idea-mockup', src: idea.mockup, alt: '', width: 1024, height: 1024, loading: 'lazy' });
        const label = el('span', { class: 'idea-title', text: idea.title });
        const action = onPick
          ? el('button', { class: 'idea-card', type: 'button', on: { click: () => onPick(idea.brief, idea) } }, picture, label)
          : el('a', { class: 'idea-card', href: studioUrl(idea) }, picture, label);
        return el('li', { class: 'idea' }, action);
      }),
    ),
  );
}
