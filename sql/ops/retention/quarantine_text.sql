-- The free text that quarantine keeps of one landed file's rows becomes the raw layer's (redacted) text.
UPDATE quarantine.{{table}} AS q
SET raw_values = json_merge_patch(q.raw_values, json_object($header, r.{{text_column}}))
FROM raw.{{table}} r
WHERE q._sha256 = $sha256 AND r._sha256 = q._sha256 AND r._row_number = q._row_number;
