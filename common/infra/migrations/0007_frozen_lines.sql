-- An order line is frozen at checkout: it keeps the design version it was priced and paid on,
-- whatever happens to the design afterwards; back to draft it follows the design again.
ALTER TABLE order_items ADD COLUMN design_version INTEGER;
ALTER TABLE order_items ADD CONSTRAINT order_items_design_version_fkey
    FOREIGN KEY (design_id, design_version) REFERENCES design_versions (design_id, version);
ALTER TABLE order_items ADD CONSTRAINT order_items_design_version_check
    CHECK (design_version IS NULL OR design_id IS NOT NULL);

-- The print-ready file of each printed side of a paid line, stored privately.
CREATE TABLE order_print_files (
    order_item_id BIGINT NOT NULL REFERENCES order_items (id) ON DELETE CASCADE,
    side TEXT NOT NULL CHECK (side IN ('front', 'back')),
    object_key TEXT NOT NULL,
    width_px INTEGER NOT NULL CHECK (width_px > 0),
    height_px INTEGER NOT NULL CHECK (height_px > 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (order_item_id, side)
);

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (
    kind IN ('sheet_row', 'order_confirmation_email', 'ops_notification_email',
             'contact_email', 'shipped_email', 'print_files')
);
