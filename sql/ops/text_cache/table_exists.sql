-- Whether the cache table exists (a warehouse made before the cache, or opened read-only, has none).
SELECT count(*) FROM information_schema.tables WHERE table_schema = 'meta' AND table_name = 'text_features';
