"""The ``text`` analysis: topics and sentiment of redacted free text (docs/methods.md section 2).

==================== ==============================================================
module               owns
==================== ==============================================================
``analysis``         ``analyse(ctx)``: document frames, stratification, the adjusted
                     BME comparison, the five result tables
``topics``           lemmatisation, NMF/LDA topic models, coherence, themes
``sentiment``        sentence sentiment with the recruitment lexicon
==================== ==============================================================

Group means with cluster-robust SEs, clustered OLS and BH q-values are in :mod:`tasks.stats`.
"""
