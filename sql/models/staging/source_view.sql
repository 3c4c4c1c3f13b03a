-- The current extract set's raw rows of one table, with export headers renamed to
-- canonical columns by the mapping (mappings/<system>.yaml).  Personal-data columns
-- come through as pd_<field> for redaction only; staging never selects them.
CREATE OR REPLACE TEMP VIEW {{view}} AS
SELECT {{select_list}}, _sha256, _row_number, _malformed
FROM raw.{{table}}
WHERE _sha256 IN (SELECT sha256 FROM meta.extract_set WHERE table_name = '{{table}}');
