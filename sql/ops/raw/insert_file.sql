-- the rows of one landed file (read as text into Parquet by tasks/ingest/readers.py)
INSERT INTO raw.{{table}} BY NAME
SELECT *, $sha256 AS _sha256 FROM read_parquet($parquet_path);
