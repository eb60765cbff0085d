-- Group orders (issue 18): an organizer shares one link, each member adds their own size (and
-- the name and number printed on the back); closing the group turns its roster into one draft.

-- A group: one product, colour and design of its organizer (signed in), shared by an
-- unguessable token that is not its id. Closed, it names the draft its roster became.
CREATE TABLE groups (
    id BIGSERIAL PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE CHECK (public_id ~ '^grp_[A-Za-z0-9_-]{24}$'),
    token TEXT NOT NULL UNIQUE CHECK (token ~ '^[A-Za-z0-9_-]{32}$'),
    user_id BIGINT NOT NULL REFERENCES users (id),
    design_id BIGINT NOT NULL REFERENCES designs (id),
    product_id TEXT NOT NULL,
    color TEXT NOT NULL,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 80),
    deadline TIMESTAMPTZ,
    -- What a member may have printed on the back, in the organizer's font, colour and size.
    personalize_name BOOLEAN NOT NULL DEFAULT false,
    personalize_number BOOLEAN NOT NULL DEFAULT false,
    font TEXT NOT NULL CHECK (length(font) <= 40),
    text_color TEXT NOT NULL CHECK (text_color ~ '^#[0-9a-f]{6}$'),
    text_size TEXT NOT NULL CHECK (text_size IN ('small', 'medium', 'large')),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    order_id BIGINT UNIQUE REFERENCES orders (id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    closed_at TIMESTAMPTZ,
    FOREIGN KEY (product_id, color) REFERENCES product_colors (product_id, name),
    CHECK ((status = 'closed') = (order_id IS NOT NULL AND closed_at IS NOT NULL))
);
CREATE INDEX groups_user_idx ON groups (user_id, created_at DESC);

-- A member's entry: owned by the session that added it (anonymous or signed in).
CREATE TABLE group_members (
    id BIGSERIAL PRIMARY KEY,
    group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    public_id TEXT NOT NULL UNIQUE CHECK (public_id ~ '^mem_[A-Za-z0-9_-]{16}$'),
    owner_session TEXT NOT NULL CHECK (length(owner_session) <= 100),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    size TEXT NOT NULL CHECK (length(size) BETWEEN 1 AND 16),
    quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 10),
    print_name TEXT CHECK (length(print_name) BETWEEN 1 AND 14),
    print_number TEXT CHECK (print_number ~ '^[0-9]{1,2}$'),
    preview_back_url TEXT CHECK (length(preview_back_url) <= 500),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX group_members_group_idx ON group_members (group_id, id);
CREATE INDEX group_members_owner_idx ON group_members (group_id, owner_session);

-- The roster of an order made from a closed group, in roster order: who each entry is for, its
-- size and pieces, what it prints on the back beside the order's own design, and, for an entry
-- that prints a name or number, its print file once made.
CREATE TABLE order_pieces (
    order_id BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 0),
    member_name TEXT NOT NULL CHECK (length(member_name) BETWEEN 1 AND 60),
    size TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 10),
    print_name TEXT,
    print_number TEXT,
    font TEXT NOT NULL,
    text_color TEXT NOT NULL,
    text_size TEXT NOT NULL,
    object_key TEXT,
    width_px INTEGER CHECK (width_px > 0),
    height_px INTEGER CHECK (height_px > 0),
    PRIMARY KEY (order_id, position),
    CHECK (object_key IS NULL OR print_name IS NOT NULL OR print_number IS NOT NULL),
    CHECK ((object_key IS NULL) = (width_px IS NULL) AND (width_px IS NULL) = (height_px IS NULL))
);
