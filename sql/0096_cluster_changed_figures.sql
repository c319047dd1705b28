-- A copy's kept paragraphs whose figures differ from the original's (docs/syndication.md).
--
-- `dropped` and `added` list the paragraphs a copy left out or put in; a paragraph that is still
-- there but says "nine soldiers" where the original said "seven" counted as kept, so the edit an
-- analyst most needs to see was invisible. `changed` holds [{"original": ..., "copy": ...}] for those;
-- existing copies get it when they are linked again (empty until then).
ALTER TABLE cluster_members ADD COLUMN changed jsonb NOT NULL DEFAULT '[]';
