SELECT count(*) FROM raw.{{table}} WHERE _sha256 = $sha256;
