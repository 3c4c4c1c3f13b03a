-- New cache rows ({{fresh}}: a registered frame with the columns below); a key already cached is kept.
INSERT INTO meta.text_features (text_key, version, text, sentences, lemmas, scores)
SELECT text_key, version, text, sentences, lemmas, scores FROM {{fresh}}
ON CONFLICT DO NOTHING;
