"""Privacy: what keeps people unidentifiable, from staging to publication.

================= ==============================================================
``pseudonyms``    the trust's pseudonymisation key (identifiers become keyed hashes at staging)
``redaction``     personal data removed from free text at staging (docs/methods.md section 2)
``disclosure``    statistical disclosure control of published tables (docs/methods.md section 5)
================= ==============================================================

Nothing here reads or writes warehouse tables (``pseudonyms`` keeps its key in
``<db>.key`` beside the warehouse, or takes it from ``EDI_RECRUIT_PSEUDONYM_KEY``):
ingest and publish call these functions on the values they hold.
"""
