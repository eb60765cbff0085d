-- Every state a design has been in, one row per version, never changed afterwards. An order
-- line frozen at checkout names (design_id, version) and reads its product, colour, layers and
-- mockups from here, whatever the shopper edits later (issue 12). `designs` stays the live
-- state: while designs.version is N, the row (id, N) here holds exactly what `designs` holds,
-- written in the same transaction by common/studio/designs.py. Stored PNGs are immutable (a
-- fresh key for each), so keeping their URLs and asset keys keeps the images.
CREATE TABLE design_versions (
    id BIGSERIAL PRIMARY KEY,
    design_id BIGINT NOT NULL REFERENCES designs (id) ON DELETE CASCADE,
    version INTEGER NOT NULL CHECK (version >= 1),
    product_id TEXT NOT NULL,
    color TEXT NOT NULL,
    layers JSONB NOT NULL CHECK (jsonb_typeof(layers) = 'array'),
    brief JSONB NOT NULL CHECK (jsonb_typeof(brief) = 'object'),
    prompt TEXT,
    artwork_url TEXT,
    mockup_front_url TEXT,
    mockup_back_url TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (design_id, version),
    FOREIGN KEY (product_id, color) REFERENCES product_colors (product_id, name)
);

-- Append-only: a version is never updated, and never deleted except with its design (the
-- cascade's delete runs inside the foreign key's trigger, so at trigger depth 2).
CREATE FUNCTION design_versions_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'design_versions is append-only: version % of design % cannot be changed',
        OLD.version, OLD.design_id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER design_versions_append_only
BEFORE UPDATE OR DELETE ON design_versions
FOR EACH ROW EXECUTE FUNCTION design_versions_append_only();

-- The live row changes what a version shows only with a new version number (which then gets
-- its own row), and its version never goes back; other columns (the owner, updated_at) may
-- change on their own.
CREATE FUNCTION designs_change_with_their_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.version < OLD.version THEN
        RAISE EXCEPTION 'design % cannot go back from version % to %',
            OLD.id, OLD.version, NEW.version
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.version = OLD.version AND (
        NEW.product_id, NEW.color, NEW.layers, NEW.brief, NEW.prompt, NEW.artwork_url,
        NEW.final_image_url, NEW.mockup_back_url
    ) IS DISTINCT FROM (
        OLD.product_id, OLD.color, OLD.layers, OLD.brief, OLD.prompt, OLD.artwork_url,
        OLD.final_image_url, OLD.mockup_back_url
    ) THEN
        RAISE EXCEPTION 'design % changed without a new version (still %)', OLD.id, OLD.version
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER designs_change_with_their_version
BEFORE UPDATE ON designs
FOR EACH ROW EXECUTE FUNCTION designs_change_with_their_version();

-- A transaction that moves a design to a new version commits only with that version's row,
-- equal to the live row (checked at commit, after the row has been written).
CREATE FUNCTION designs_version_is_recorded() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM designs d
    WHERE d.id = NEW.id AND NOT EXISTS (
        SELECT 1 FROM design_versions v
        WHERE v.design_id = d.id AND v.version = d.version
            AND (v.product_id, v.color, v.layers, v.brief, v.prompt, v.artwork_url,
                v.mockup_front_url, v.mockup_back_url)
            IS NOT DISTINCT FROM (d.product_id, d.color, d.layers, d.brief, d.prompt,
                d.artwork_url, d.final_image_url, d.mockup_back_url)
    );
    IF FOUND THEN
        RAISE EXCEPTION 'design % has no design_versions row equal to its current version', NEW.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER designs_version_is_recorded
AFTER UPDATE OF version ON designs
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW WHEN (NEW.version <> OLD.version)
EXECUTE FUNCTION designs_version_is_recorded();

-- Every design so far gets its current state as its version (the states before it are gone).
INSERT INTO design_versions (
    design_id, version, product_id, color, layers, brief, prompt, artwork_url,
    mockup_front_url, mockup_back_url, created_at
)
SELECT id, version, product_id, color, layers, brief, prompt, artwork_url,
    final_image_url, mockup_back_url, updated_at
FROM designs;
