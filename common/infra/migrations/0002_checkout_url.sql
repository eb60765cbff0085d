-- The URL of the order's open Checkout Session, so a second checkout call for the same
-- unchanged order answers with the same session instead of creating another one.
ALTER TABLE orders ADD COLUMN checkout_url TEXT CHECK (length(checkout_url) <= 2048);
