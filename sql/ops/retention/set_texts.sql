-- Replace one landed file's raw free text by the texts in {{texts}} (_row_number, text).
UPDATE raw.{{table}} AS r SET {{text_column}} = t.text
FROM {{texts}} t
WHERE r._sha256 = $sha256 AND r._row_number = t._row_number;
