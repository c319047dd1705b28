-- Site-level boilerplate learned by extraction (pipeline/extraction/store.py).
-- For each source (the outlet's registered domain) the pages counted so far, and for each
-- normalised paragraph on how many of those pages it was seen. A paragraph seen on other pages
-- of the same source is boilerplate there (newsletter prompts, credits, "Read more" blocks).

CREATE TABLE site_profile_pages (
    source      text NOT NULL,
    page_id     text NOT NULL,             -- hash of the page's unfiltered extracted text
    paragraphs  integer NOT NULL,
    learned_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, page_id)
);

CREATE TABLE site_paragraphs (
    source      text NOT NULL,
    para_key    text NOT NULL,             -- blake2b-64 of the paragraph's lower-cased words
    pages       integer NOT NULL CHECK (pages > 0),
    words       integer NOT NULL,
    example     text NOT NULL,             -- the paragraph (first 300 characters), for inspection
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, para_key)
);
CREATE INDEX site_paragraphs_boilerplate_idx ON site_paragraphs (source) WHERE pages > 1;
