-- Shopping (issue 13): production time and size charts in the catalog, shipping on a paid
-- order, readable order numbers, and share links of designs. `devtools/seed.py` holds the same
-- catalog numbers and upserts them.

-- How many business days a product takes to make, before it ships.
ALTER TABLE products ADD COLUMN production_days INTEGER NOT NULL DEFAULT 5
    CHECK (production_days BETWEEN 1 AND 30);
UPDATE products p SET production_days = v.days
FROM (VALUES
    ('classic-tee', 5),
    ('premium-tee', 5),
    ('hoodie', 7),
    ('crewneck', 7),
    ('tote', 4),
    ('cap', 8)
) AS v (product_id, days)
WHERE p.id = v.product_id;

-- The size chart: each size's garment measurements in inches, the chest across laid flat
-- (pit to pit) and the length from the high point of the shoulder. None for one-size products.
ALTER TABLE product_sizes
    ADD COLUMN chest_in NUMERIC(4, 1) CHECK (chest_in > 0 AND chest_in < 80),
    ADD COLUMN length_in NUMERIC(4, 1) CHECK (length_in > 0 AND length_in < 80),
    ADD CONSTRAINT product_sizes_chart_check CHECK ((chest_in IS NULL) = (length_in IS NULL));
UPDATE product_sizes s SET chest_in = v.chest_in, length_in = v.length_in
FROM (VALUES
    ('classic-tee', 'XS', 16.5, 27.0),
    ('classic-tee', 'S', 18.0, 28.0),
    ('classic-tee', 'M', 20.0, 29.0),
    ('classic-tee', 'L', 22.0, 30.0),
    ('classic-tee', 'XL', 24.0, 31.0),
    ('classic-tee', '2XL', 26.0, 32.0),
    ('classic-tee', '3XL', 28.0, 33.0),
    ('premium-tee', 'XS', 16.0, 27.0),
    ('premium-tee', 'S', 17.5, 28.0),
    ('premium-tee', 'M', 19.5, 29.0),
    ('premium-tee', 'L', 21.5, 30.0),
    ('premium-tee', 'XL', 23.5, 31.0),
    ('premium-tee', '2XL', 25.5, 32.0),
    ('premium-tee', '3XL', 27.5, 33.0),
    ('hoodie', 'S', 20.0, 27.0),
    ('hoodie', 'M', 22.0, 28.0),
    ('hoodie', 'L', 24.0, 29.0),
    ('hoodie', 'XL', 26.0, 30.0),
    ('hoodie', '2XL', 28.0, 31.0),
    ('hoodie', '3XL', 30.0, 32.0),
    ('crewneck', 'S', 20.0, 26.5),
    ('crewneck', 'M', 22.0, 27.5),
    ('crewneck', 'L', 24.0, 28.5),
    ('crewneck', 'XL', 26.0, 29.5),
    ('crewneck', '2XL', 28.0, 30.5),
    ('crewneck', '3XL', 30.0, 31.5)
) AS v (product_id, size, chest_in, length_in)
WHERE s.product_id = v.product_id AND s.size = v.size;

-- The shipping the shopper chose on Checkout, once paid: our rate (standard, rush), its name
-- and price, and Stripe's id of it. The order's total is then its items plus shipping.
ALTER TABLE orders
    ADD COLUMN shipping_cents INTEGER CHECK (shipping_cents >= 0),
    ADD COLUMN shipping_rate TEXT CHECK (length(shipping_rate) <= 40),
    ADD COLUMN shipping_rate_name TEXT CHECK (length(shipping_rate_name) <= 100),
    ADD COLUMN stripe_shipping_rate_id TEXT CHECK (length(stripe_shipping_rate_id) <= 255);

-- A number people can read and say (AUR-10001), one per order, in the order orders came.
CREATE SEQUENCE order_number_seq AS BIGINT START WITH 10001;
ALTER TABLE orders ADD COLUMN order_number BIGINT;
UPDATE orders o SET order_number = 10000 + n.position
FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS position FROM orders) AS n
WHERE o.id = n.id;
SELECT setval('order_number_seq', COALESCE((SELECT max(order_number) FROM orders), 10000));
ALTER TABLE orders
    ALTER COLUMN order_number SET DEFAULT nextval('order_number_seq'),
    ALTER COLUMN order_number SET NOT NULL,
    ADD CONSTRAINT orders_order_number_key UNIQUE (order_number);
ALTER SEQUENCE order_number_seq OWNED BY orders.order_number;

-- A read-only link to a design's mockups, for someone to approve it without signing in: one
-- unguessable token per design.
CREATE TABLE design_shares (
    token TEXT PRIMARY KEY CHECK (token ~ '^[A-Za-z0-9_-]{32}$'),
    design_id BIGINT NOT NULL UNIQUE REFERENCES designs (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
