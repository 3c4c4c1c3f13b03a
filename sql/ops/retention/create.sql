-- One row per landed file whose personal data was removed from raw (and its landing copy deleted).
CREATE TABLE IF NOT EXISTS meta.retention (
    sha256      VARCHAR PRIMARY KEY,
    table_name  VARCHAR NOT NULL,
    columns     VARCHAR NOT NULL,
    rows_kept   BIGINT NOT NULL,
    applied_at  TIMESTAMP NOT NULL,
    rule        VARCHAR NOT NULL
);
