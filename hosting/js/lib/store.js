// What the storefront remembers between pages, in this browser only. The server stays the
// authority: these are ids to pick up where the shopper left off, and hints for the UI.

const KEYS = {
  order: 'auren.order',
  designs: 'auren.designs',
  studio: 'auren.studio',
  user: 'auren.user',
};
const MAX_DESIGNS = 30;

function read(key, fallback = null) {
  try {
    const raw = localStorage.getItem(key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

function write(key, value) {
  try {
    if (value === null || value === undefined) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled (private mode): the shop still works, it just forgets.
  }
}

/** The draft order this browser is filling, if any. */
export const currentOrder = {
  get: () => read(KEYS.order),
  set: (orderId) => write(KEYS.order, orderId),
  clear: () => write(KEYS.order, null),
};

/** Mockups of the designs made here, so order pages can show each item as designed. */
export const designPreviews = {
  get(designId) {
    return designId ? read(KEYS.designs, {})[designId] ?? null : null;
  },
  remember(design) {
    if (!design?.design_id) return;
    const all = read(KEYS.designs, {});
    delete all[design.design_id];
    all[design.design_id] = {
      front: design.mockups?.front ?? '',
      back: design.mockups?.back ?? '',
      // The side to show first: where the design has something printed.
      side: design.layers?.some((layer) => layer.area === 'front') || !design.layers?.length ? 'front' : 'back',
      product_id: design.product_id,
      color: design.color,
    };
    const ids = Object.keys(all);
    for (const stale of ids.slice(0, Math.max(0, ids.length - MAX_DESIGNS))) delete all[stale];
    write(KEYS.designs, all);
  },
};

/** The studio's work in progress: the design and the conversation about it. */
export const studioState = {
  get: () => read(KEYS.studio, {}),
  set: (state) => write(KEYS.studio, state),
  clear: () => write(KEYS.studio, null),
};

/**
 * Whether this browser signed in, as last seen: it only decides what to offer (a "My orders"
 * link, "continue as ..."). Pages that need a user ask the server, which may say otherwise.
 */
export const signedInHint = {
  get: () => read(KEYS.user),
  set: (user) => write(KEYS.user, user ? { email: user.email, name: user.name ?? null } : null),
  clear: () => write(KEYS.user, null),
};
