-- Null the personal-data columns of one landed file's raw rows (the rows themselves stay: counts reconcile).
UPDATE raw.{{table}} SET {{assignments}} WHERE _sha256 = $sha256;
