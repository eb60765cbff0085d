-- A design remembers the brief it was made from (product, color, image prompt, texts,
-- placement, style), so that a chat edit ("make the tiger bigger") changes that design.
ALTER TABLE designs ADD COLUMN brief JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(brief) = 'object');
ALTER TABLE designs ADD CONSTRAINT designs_layers_limit CHECK (jsonb_array_length(layers) <= 8);
