-- Drop the personal-data keys from the raw values that quarantine keeps of one landed file's rows
-- ($patch: a JSON object mapping each key to null).
UPDATE quarantine.{{table}} SET raw_values = json_merge_patch(raw_values, CAST($patch AS JSON)) WHERE _sha256 = $sha256;
