-- a header seen for the first time in a later file: raw keeps every column ever received
ALTER TABLE raw.{{table}} ADD COLUMN {{column}} VARCHAR;
