"""The synthetic trust: a made-up large acute NHS trust's senior recruitment with planted, known effects.

This package is the project's demo and its test oracle.  It writes raw
exports (Trac-style recruitment tables, ESR workforce snapshots) that the
pipeline ingests, and truth files (truth.json, truth_pii.csv,
truth_documents.csv) that only tests and the report's recovered-vs-planted
checks read.  docs/synthetic-data.md documents the data-generating model.
Output is byte-for-byte deterministic for a given seed and arguments.

Public API::

    from edi_recruit.synthetic import generate_trust, load_effects
    generate_trust("data/extracts", seed=7, applications=8000,
                   effects=load_effects("effects/alternative.yaml"), fmt="csv")

Module map, by what each module makes (a planted effect lives in exactly one):

=================  ==========================================================================
``generator``      ``generate_trust``: checks arguments, runs the stages in their fixed order
``plan``           the arguments, calendar, vacancies, managers, panel pool (stage apply_pool)
``workforce``      ESR staff and snapshots, internal applications (apply_workforce), external counts
``panels``         each vacancy's interview panel and member severities
``applications``   applicants of each vacancy and the applications rows
``outcomes``       withdrawals, shortlist (stage shortlist), offer (stage offer), declines, letters received
``scores``         interview scores (stage interview_score)
``status_dates``   the day each status was reached (own stream per chunk, drawn last)
``texts``          assessments (assessment_tone, assessment_topics) and CEO letters, planted PII
``truth``          realised counts, computed programme_impact, truth.json
``effects``        stage/term registry, effects YAML loading and validation, typed views
``design``         the fixed design constants of the trust
``people``         ethnic codes, names, titles, phone and NHS numbers
``draws``          random streams and vectorised categorical draws
``columns``        raw-export spellings (dates, Y/N, references, band labels)
``sinks``          csv / xlsx / parquet writers and the export headers from mappings/
``names``          name lists by naming tradition
``phrase_bank``    sentence pieces of the free text
=================  ==========================================================================
"""
from __future__ import annotations

from edi_recruit.synthetic.effects import DEFAULT_EFFECTS_PATH, STAGE_MODELS, STAGE_TERMS, load_effects
from edi_recruit.synthetic.generator import GenerationSummary, generate_trust
from edi_recruit.synthetic.sinks import FORMATS, TRUST_TABLES, export_headers

__all__ = [
    "DEFAULT_EFFECTS_PATH",
    "FORMATS",
    "STAGE_MODELS",
    "STAGE_TERMS",
    "TRUST_TABLES",
    "GenerationSummary",
    "export_headers",
    "generate_trust",
    "load_effects",
]
