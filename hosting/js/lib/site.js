// What every page shares: the current page marked in the navigation, and the account links
// ("My orders", "Sign out") for a shopper this browser knows is signed in.

import { postJSON } from './api.js';
import { signedInHint } from './store.js';

function markCurrentPage() {
  const here = window.location.pathname.replace(/\/$/, '') || '/';
  for (const link of document.querySelectorAll('.site-nav a.nav-link')) {
    const target = new URL(link.href).pathname;
    if (target === here || (target !== '/' && here.startsWith(target + '/'))) {
      link.setAttribute('aria-current', 'page');
    }
  }
}

function showAccount() {
  const user = signedInHint.get();
  for (const node of document.querySelectorAll('[data-when-signed-in]')) node.hidden = !user;
  for (const node of document.querySelectorAll('[data-signed-in-email]')) node.textContent = user?.email ?? '';
}

async function signOut(event) {
  event.preventDefault();
  try {
    await postJSON('/api/auth/logout');
  } finally {
    signedInHint.clear();
    window.location.assign('/');
  }
}

markCurrentPage();
showAccount();
for (const button of document.querySelectorAll('[data-sign-out]')) button.addEventListener('click', signOut);
window.addEventListener('storage', showAccount);

export { showAccount };
