// A mockup that opens larger: a button around the picture, and the page's one dialog that shows
// it (Escape, Close or a click outside close it, and focus goes back to the button).

import { el } from './dom.js';

let zoom = null;

function openZoom(src, alt) {
  if (!zoom) {
    const image = el('img', { class: 'zoom-image', alt: '', width: 1024, height: 1024 });
    const caption = el('p', { class: 'zoom-caption', id: 'zoom-caption' });
    const close = el('button', { class: 'btn btn-secondary zoom-close', type: 'button', text: 'Close' });
    const dialog = el('dialog', { class: 'zoom', 'aria-labelledby': 'zoom-caption' }, el('div', { class: 'zoom-inner' }, caption, image, close));
    close.addEventListener('click', () => dialog.close());
    dialog.addEventListener('click', (event) => {
      if (event.target === dialog) dialog.close();
    });
    document.body.append(dialog);
    zoom = { dialog, image, caption, close };
  }
  zoom.image.src = src;
  zoom.image.alt = alt;
  zoom.caption.textContent = alt;
  zoom.dialog.showModal();
  zoom.close.focus();
}

/**
 * A mockup that opens larger: a button around the image, named for what it shows.
 * `alt` says what the picture is ("Classic Tee in Navy, your design, back").
 */
export function zoomableMockup(src, alt, { label = null, lazy = true } = {}) {
  const button = el(
    'button',
    { class: 'mockup-zoom', type: 'button', 'aria-label': `Enlarge: ${alt}` },
    el('img', { src, alt: '', width: 1024, height: 1024, loading: lazy ? 'lazy' : null, decoding: 'async' }),
  );
  button.addEventListener('click', () => openZoom(src, alt));
  return el('figure', { class: 'mockup' }, button, label ? el('figcaption', { class: 'mockup-side', text: label }) : null);
}

