-- The whole schema: the seed's six tables (extended) plus what the money path, the outbox,
-- the contact form and the Postgres state backend need. Money is integer cents + currency.

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE CHECK (length(public_id) >= 16),
    email TEXT NOT NULL CHECK (email = lower(email) AND position('@' IN email) > 1),
    name TEXT CHECK (length(name) <= 200),
    provider TEXT NOT NULL CHECK (provider IN ('google', 'apple', 'local')),
    workos_user_id TEXT UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_login_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE products (
    id TEXT PRIMARY KEY CHECK (id ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    category TEXT NOT NULL CHECK (category IN ('tee', 'sweatshirt', 'hoodie', 'bag', 'headwear')),
    description TEXT NOT NULL DEFAULT '',
    base_price_cents INTEGER NOT NULL CHECK (base_price_cents >= 0),
    currency TEXT NOT NULL DEFAULT 'usd' CHECK (currency ~ '^[a-z]{3}$'),
    image_url TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT true
);

CREATE TABLE product_colors (
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
    hex TEXT NOT NULL CHECK (hex ~ '^#[0-9a-f]{6}$'),
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (product_id, name)
);

CREATE TABLE product_sizes (
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    size TEXT NOT NULL CHECK (size IN ('XS', 'S', 'M', 'L', 'XL', '2XL', '3XL', 'OS')),
    position INTEGER NOT NULL DEFAULT 0,
    upcharge_cents INTEGER NOT NULL DEFAULT 0 CHECK (upcharge_cents >= 0),
    PRIMARY KEY (product_id, size)
);

CREATE TABLE product_print_areas (
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (name IN ('front', 'back')),
    x INTEGER NOT NULL CHECK (x >= 0),
    y INTEGER NOT NULL CHECK (y >= 0),
    width INTEGER NOT NULL CHECK (width > 0),
    height INTEGER NOT NULL CHECK (height > 0),
    template_size INTEGER NOT NULL CHECK (template_size > 0),
    template_url TEXT NOT NULL,
    PRIMARY KEY (product_id, name),
    CHECK (x + width <= template_size AND y + height <= template_size)
);

CREATE TABLE product_price_tiers (
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    min_quantity INTEGER NOT NULL CHECK (min_quantity > 1),
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (product_id, min_quantity)
);

CREATE TABLE designs (
    id BIGSERIAL PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE CHECK (length(public_id) >= 16),
    user_id BIGINT REFERENCES users (id),
    owner_session TEXT,
    product_id TEXT NOT NULL,
    color TEXT NOT NULL,
    layers JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(layers) = 'array'),
    prompt TEXT,
    artwork_url TEXT,
    final_image_url TEXT,
    mockup_back_url TEXT,
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (product_id, color) REFERENCES product_colors (product_id, name),
    CHECK (user_id IS NOT NULL OR owner_session IS NOT NULL)
);
CREATE INDEX designs_user_idx ON designs (user_id, created_at DESC);
CREATE INDEX designs_owner_session_idx ON designs (owner_session, created_at DESC);

CREATE TABLE orders (
    id BIGSERIAL PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE CHECK (length(public_id) >= 16),
    user_id BIGINT REFERENCES users (id),
    owner_session TEXT,
    status TEXT NOT NULL DEFAULT 'draft' CHECK (
        status IN ('draft', 'pending_payment', 'paid', 'fulfilled', 'refunded', 'cancelled')
    ),
    subtotal_cents INTEGER NOT NULL DEFAULT 0 CHECK (subtotal_cents >= 0),
    total_cents INTEGER NOT NULL DEFAULT 0 CHECK (total_cents >= 0),
    currency TEXT NOT NULL DEFAULT 'usd' CHECK (currency ~ '^[a-z]{3}$'),
    email TEXT,
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    stripe_checkout_session_id TEXT UNIQUE,
    checkout_amount_cents INTEGER CHECK (checkout_amount_cents >= 0),
    checkout_currency TEXT CHECK (checkout_currency ~ '^[a-z]{3}$'),
    stripe_payment_intent_id TEXT,
    flagged_reason TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    paid_at TIMESTAMPTZ,
    CHECK (user_id IS NOT NULL OR owner_session IS NOT NULL),
    CHECK (status NOT IN ('paid', 'fulfilled', 'refunded') OR paid_at IS NOT NULL)
);
CREATE INDEX orders_user_idx ON orders (user_id, created_at DESC);
CREATE INDEX orders_owner_session_idx ON orders (owner_session, created_at DESC);
CREATE INDEX orders_payment_intent_idx ON orders (stripe_payment_intent_id);

CREATE TABLE order_items (
    id BIGSERIAL PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 0),
    product_id TEXT NOT NULL,
    design_id BIGINT REFERENCES designs (id),
    color TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    tier_min_quantity INTEGER NOT NULL CHECK (tier_min_quantity >= 1),
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    line_total_cents INTEGER NOT NULL CHECK (line_total_cents >= 0),
    list_total_cents INTEGER NOT NULL CHECK (list_total_cents >= line_total_cents),
    UNIQUE (order_id, position),
    FOREIGN KEY (product_id, color) REFERENCES product_colors (product_id, name)
);
CREATE INDEX order_items_design_idx ON order_items (design_id);

CREATE TABLE order_sizes (
    id BIGSERIAL PRIMARY KEY,
    order_item_id BIGINT NOT NULL REFERENCES order_items (id) ON DELETE CASCADE,
    size TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    UNIQUE (order_item_id, size)
);

CREATE TABLE stripe_events (
    event_id TEXT PRIMARY KEY CHECK (event_id ~ '^evt_'),
    type TEXT NOT NULL,
    order_public_id TEXT,
    stripe_created_at TIMESTAMPTZ,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (
        kind IN ('sheet_row', 'order_confirmation_email', 'ops_notification_email', 'contact_email')
    ),
    dedupe_key TEXT NOT NULL UNIQUE,
    payload JSONB NOT NULL DEFAULT '{}',
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    done_at TIMESTAMPTZ
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE done_at IS NULL;

CREATE TABLE contact_messages (
    id BIGSERIAL PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE CHECK (length(public_id) >= 16),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    message TEXT NOT NULL CHECK (length(message) BETWEEN 1 AND 5000),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The Postgres state backend (Firestore's documents and rate-limit counters, locally).
CREATE TABLE state_documents (
    collection TEXT NOT NULL CHECK (length(collection) BETWEEN 1 AND 100),
    id TEXT NOT NULL CHECK (length(id) BETWEEN 1 AND 200),
    data JSONB NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ,
    PRIMARY KEY (collection, id)
);
CREATE INDEX state_documents_expires_idx ON state_documents (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 300),
    window_start TIMESTAMPTZ NOT NULL,
    hits INTEGER NOT NULL CHECK (hits >= 0)
);
