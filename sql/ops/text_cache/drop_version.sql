-- Rows of feature versions other than the current one (old code or models): never read again.
DELETE FROM meta.text_features WHERE version <> $version;
