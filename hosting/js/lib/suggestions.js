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
 * Show `productId`'s ideas in `root`: each its mockup and title, as a link to the studio
 * (`onPick` absent) or a button calling `onPick(brief, idea)`. Nothing shows when none load.
 */
export async function showIdeas(root, productId, { heading = 'Ideas to start from', onPick = null } = {}) {
  root.dataset.product = productId;
  let ideas = [];
  try {
    ({ suggestions: ideas } = await loadIdeas(productId));
  } catch {
    ideas = [];
  }
  if (root.dataset.product !== productId) return; // another product was picked meanwhile
  root.hidden = !ideas.length;
  const headingId = `${root.id || 'ideas'}-title`;
  root.setAttribute('aria-labelledby', headingId);
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
