// What the storefront remembers between pages, in this browser only. The server stays the
// authority: these are ids to pick up where the shopper left off, and hints for the UI.

const KEYS = {
  order: 'auren.order',
  designIndex: 'auren.design-index',
  designPrefix: 'auren.design.',
  studio: 'auren.studio',
  imageJob: 'auren.image-job',
  user: 'auren.user',
};
const MAX_DESIGNS = 30;
const MAX_MESSAGES = 40;

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

/** The sides of a design that have something printed on them (front first). */
export function printedSides(layers) {
  const sides = new Set((layers ?? []).map((layer) => layer.area));
  return ['front', 'back'].filter((side) => sides.has(side));
}

/**
 * The designs made in this browser, by design id: the server's last answer (`design`), the
 * editor's layers (ahead of it while `dirty`), and the conversation about the design
 * (`conversation_id`, `messages`), so the studio reopens any of them exactly as it was left.
 */
export const designStore = {
  key: (designId) => KEYS.designPrefix + designId,
  get(designId) {
    return designId ? read(KEYS.designPrefix + designId) : null;
  },
  /** Merge `patch` into the design's record; the most recently touched designs are kept. */
  put(designId, patch) {
    if (!designId) return null;
    const record = { ...(read(KEYS.designPrefix + designId) ?? {}), ...patch, saved_at: Date.now() };
    if (record.messages?.length > MAX_MESSAGES) record.messages = record.messages.slice(-MAX_MESSAGES);
    write(KEYS.designPrefix + designId, record);
    const index = read(KEYS.designIndex, []).filter((id) => id !== designId);
    index.push(designId);
    for (const stale of index.splice(0, Math.max(0, index.length - MAX_DESIGNS))) write(KEYS.designPrefix + stale, null);
    write(KEYS.designIndex, index);
    return record;
  },
};

/** Mockups of the designs made here, so order pages can show each item as designed. */
export const designPreviews = {
  get(designId) {
    const design = designStore.get(designId)?.design;
    if (!design?.mockups?.front) return null;
    return { front: design.mockups.front, back: design.mockups.back, sides: printedSides(design.layers) };
  },
};

/**
 * The studio's work in progress: the design it is on (`design_id`), or, before there is one,
 * the product, color and conversation so far. A bare /studio picks it up again.
 */
export const studioState = {
  get: () => read(KEYS.studio, {}),
  set: (state) => write(KEYS.studio, state),
  clear: () => write(KEYS.studio, null),
};

/**
 * The image job the studio is waiting for (`job_id`, the `design_id` it changes, null for a new
 * design, and the request to send again if it fails), so leaving and coming back resumes it.
 */
export const pendingImageJob = {
  get: () => read(KEYS.imageJob),
  set: (job) => write(KEYS.imageJob, job),
  clear: () => write(KEYS.imageJob, null),
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
