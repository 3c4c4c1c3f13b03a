-- The per-document NLP content cache of the text analysis (tasks/analyses/text/doc_cache.py).
-- text_key = sha256 of (feature version, mart text): the same redacted text under the same code and models
-- always gives the same row, so a month processes only texts it has not seen.  Holds redacted text only
-- (the marts' text is redacted at ingest; `text` is after the analysis' own safety-net pass).
CREATE TABLE IF NOT EXISTS meta.text_features (
    text_key    VARCHAR PRIMARY KEY,
    version     VARCHAR NOT NULL,
    text        VARCHAR NOT NULL,
    sentences   VARCHAR[] NOT NULL,
    lemmas      VARCHAR[] NOT NULL,
    scores      DOUBLE[] NOT NULL,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);
