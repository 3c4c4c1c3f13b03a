INSERT OR REPLACE INTO meta.settings VALUES ($name, $value);
