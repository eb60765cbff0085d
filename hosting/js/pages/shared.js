// A design shared for approval (/shared#<token>): its product, color and the mockups of its
// front and back, for anyone with the link, signed in or not; nothing else of the design, its
// price or who made it. The token stays in the fragment, so it is never sent in a referrer.

import { ApiError, describeError, getJSON } from '../lib/api.js';
import { el } from '../lib/dom.js';
import { zoomableMockup } from '../lib/mockup-zoom.js';
import '../lib/site.js';

const title = document.getElementById('shared-title');
const lede = document.getElementById('shared-lede');
const status = document.getElementById('shared-status');
const root = document.getElementById('shared-design');

function tokenOf(hash) {
  const token = hash.replace(/^#/, '');
  return /^[A-Za-z0-9_-]{16,64}$/.test(token) ? token : null;
}

function stopped(heading, detail, action = null) {
  title.textContent = heading;
  lede.textContent = detail;
  root.replaceChildren(action ?? '');
  status.textContent = heading;
}

async function show() {
  const token = tokenOf(window.location.hash);
  if (!token) {
    stopped('This link is not complete', 'Ask whoever sent it for the whole link, or start a design of your own.', el('a', { class: 'btn btn-secondary', href: '/start', text: 'Start designing' }));
    return;
  }
  root.setAttribute('aria-busy', 'true');
  try {
    const design = await getJSON(`/api/designs/shared/${encodeURIComponent(token)}`);
    const name = `${design.product_name} in ${design.color}`;
    title.textContent = name;
    document.title = `${name}, for your approval · Auren`;
    lede.textContent = 'Someone made this design at Auren and would like your opinion. Here is how it prints, front and back.';
    root.replaceChildren(
      el(
        'div',
        { class: 'shared-mockups' },
        ['front', 'back'].filter((side) => design.mockups?.[side]).map((side) => zoomableMockup(design.mockups[side], `${name}, ${side}`, { label: side === 'back' ? 'Back' : 'Front', lazy: false })),
      ),
      el('p', { class: 'field-hint', text: 'Select a side to see it larger. Tell whoever sent you this link what you think.' }),
    );
    status.textContent = `${name}: front and back.`;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      stopped('This design is no longer shared', 'The link may be mistyped, or the design was removed. Ask whoever sent it for a new link.');
    } else {
      const { title: heading, detail } = describeError(error);
      stopped(heading, detail, el('button', { class: 'btn btn-secondary', type: 'button', text: 'Try again', on: { click: show } }));
    }
  } finally {
    root.removeAttribute('aria-busy');
  }
}

window.addEventListener('hashchange', show);
show();
