-- Cached features of the wanted keys ({{wanted}}: a registered frame with one column text_key).
SELECT c.text_key, c.text, c.sentences, c.lemmas, c.scores
FROM meta.text_features AS c
JOIN {{wanted}} AS w USING (text_key);
