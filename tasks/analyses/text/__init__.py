"""The ``text`` analysis: topics and sentiment of redacted free text (docs/methods.md section 2).

==================== ==============================================================
module               owns
==================== ==============================================================
``analysis``         ``analyse(ctx)``: per source, the NLP and topic model, then the
                     five result tables; reuse of an unchanged run
``tables``           rows of the result tables: document frames, stratification,
                     the adjusted BME comparison, BH q-values, schemas
``topics``           lemmatisation, NMF/LDA topic models, coherence, themes
``sentiment``        sentence sentiment with the recruitment lexicon
==================== ==============================================================

Group means with cluster-robust SEs, clustered OLS and BH q-values are in :mod:`tasks.stats`.
"""
