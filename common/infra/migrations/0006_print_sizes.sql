-- Each print area's physical size, in inches: a print file is width_in x height_in at 300 DPI.
-- The template's pixel box (width x height) keeps the same aspect ratio (within 1%), so the
-- printed garment matches its mockup. `devtools/seed.py` holds the same numbers and upserts them.
ALTER TABLE product_print_areas
    ADD COLUMN width_in NUMERIC(5, 2),
    ADD COLUMN height_in NUMERIC(5, 2);

UPDATE product_print_areas a
SET width_in = v.width_in, height_in = v.height_in
FROM (VALUES
    ('classic-tee', 'front', 12.2, 16.0),
    ('classic-tee', 'back', 12.0, 16.5),
    ('premium-tee', 'front', 11.6, 16.0),
    ('premium-tee', 'back', 11.5, 16.5),
    ('hoodie', 'front', 11.7, 8.0),
    ('hoodie', 'back', 12.2, 14.8),
    ('crewneck', 'front', 12.2, 14.4),
    ('crewneck', 'back', 12.0, 16.5),
    ('tote', 'front', 12.5, 12.8),
    ('tote', 'back', 12.5, 12.8),
    ('cap', 'front', 3.4, 2.8),
    ('cap', 'back', 2.4, 1.6)
) AS v (product_id, name, width_in, height_in)
WHERE a.product_id = v.product_id AND a.name = v.name;

-- An area this list does not know (added by hand) gets 27 template pixels to the inch, the
-- scale of the tee's chest, which keeps its aspect ratio; re-seeding sets the real size.
UPDATE product_print_areas
SET width_in = round(width / 27.0, 2), height_in = round(height / 27.0, 2)
WHERE width_in IS NULL OR height_in IS NULL;

ALTER TABLE product_print_areas
    ALTER COLUMN width_in SET NOT NULL,
    ALTER COLUMN height_in SET NOT NULL,
    ADD CONSTRAINT product_print_areas_inches_positive CHECK (width_in > 0 AND height_in > 0);
