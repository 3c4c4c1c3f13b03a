-- One row per landed file.  A file is identified by its content hash; landing
-- the same bytes again (under any name) adds nothing.
CREATE TABLE IF NOT EXISTS landing.manifest (
    sha256        VARCHAR PRIMARY KEY,
    file_name     VARCHAR NOT NULL,
    source_system VARCHAR NOT NULL,
    table_name    VARCHAR NOT NULL,
    file_format   VARCHAR NOT NULL,
    encoding      VARCHAR,
    size_bytes    BIGINT NOT NULL,
    row_count     BIGINT NOT NULL,
    header_row    INTEGER,
    landed_path   VARCHAR NOT NULL,
    landed_at     TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS meta.settings (
    name  VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
-- The extract set that staging and the marts were last built from.
CREATE TABLE IF NOT EXISTS meta.extract_set (
    table_name VARCHAR NOT NULL,
    sha256     VARCHAR NOT NULL,
    file_name  VARCHAR NOT NULL
);
