-- raw.<table>: every column of the export as text, plus lineage
CREATE TABLE raw.{{table}} ({{column_defs}}, _row_number BIGINT, _malformed VARCHAR, _sha256 VARCHAR);
