// "Share for approval": a read-only link to a design (POST /api/designs/<id>/share), copied for
// the shopper to send; whoever opens it sees the product, its color and the mockups, nothing
// else, without signing in (the /shared page).

import { describeError, postJSON } from './api.js';
import { el } from './dom.js';

let shares = 0;

/** The design's share link; the same link every time for one design. */
export async function shareLink(designId) {
  const { url } = await postJSON(`/api/designs/${encodeURIComponent(designId)}/share`);
  return url;
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Wire `button` to share the design `designId()` names: the link shows in `root` (a read-only
 * field, selected), copied when the browser allows it, and the status says which.
 */
export function wireShare(button, root, designId) {
  const id = `share-${++shares}`;
  button.addEventListener('click', async () => {
    const design = designId();
    if (!design || button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    try {
      const url = await shareLink(design);
      const field = el('input', { class: 'input share-url', id: `${id}-url`, type: 'url', readonly: true, value: url });
      const copied = await copy(url);
      root.replaceChildren(
        el('label', { class: 'field-label', for: field.id, text: 'Link for approval' }),
        field,
        el('p', { class: 'field-hint share-status', role: 'status', text: copied ? 'Copied. Whoever opens it sees the mockups only: no prices, no account.' : 'Copy this link and send it. Whoever opens it sees the mockups only: no prices, no account.' }),
      );
      root.hidden = false;
      field.addEventListener('focus', () => field.select());
      if (!copied) field.focus();
    } catch (error) {
      const { title, detail } = describeError(error);
      root.replaceChildren(el('p', { class: 'field-error', role: 'alert', text: `The link was not made. ${title}. ${detail}` }));
      root.hidden = false;
    } finally {
      button.removeAttribute('aria-busy');
    }
  });
}

/** A "Share for approval" button with its result under it, for one design (Review, My orders). */
export function shareControl(designId, { name }) {
  const button = el('button', { class: 'text-button share-button', type: 'button' }, 'Share for approval', el('span', { class: 'visually-hidden', text: ` of ${name}` }));
  const root = el('div', { class: 'share-result', hidden: true });
  wireShare(button, root, () => designId);
  return el('div', { class: 'share' }, button, root);
}
