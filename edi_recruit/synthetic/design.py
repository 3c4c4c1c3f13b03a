"""Design constants of the synthetic trust: the fixed numbers of its data-generating model.

Reads nothing and draws nothing.  Every constant here is documented in
docs/synthetic-data.md ("Trust structure", "Data-generating model by stage");
the planted effect sizes are not here but in effects/default.yaml (see
``edi_recruit.synthetic.effects``).  Changing any value changes every
generated file, and the pinned hashes in
tests/edi_recruit/synthetic/test_reference_hashes.py say so.
"""
from __future__ import annotations

import math

import numpy as np

# --------------------------------------------------------------------------
# Generation mechanics (results depend on VAC_CHUNK, never on memory)
# --------------------------------------------------------------------------
MIN_APPLICATIONS = 100


MAX_PERIOD_MONTHS = 240


WF_BLOCK = 500_000  # internal applications placed per block


VAC_CHUNK = 2000  # vacancies per generation chunk (fixed: results do not depend on memory)


# --------------------------------------------------------------------------
# Trust structure
# --------------------------------------------------------------------------
VAC_BAND_SHARE = np.array([0.38, 0.27, 0.17, 0.09, 0.05, 0.04])          # 8a..VSM


MEAN_APPS_BY_BAND = np.array([23.0, 21.0, 19.0, 17.0, 15.0, 14.0])        # incl. internals


INTERNAL_SHARE = 0.35


STAFF_PER_APPLICATION = 0.5        # workforce headcount = 0.5 x applications (4,000 at 8,000)


MONTHLY_LEAVE_RATE = 0.006         # ~7% turnover a year, replaced by joiners


STAFF_BAND_SHARE = np.array([0.45, 0.33, 0.12, 0.05, 0.025, 0.013, 0.007, 0.005])  # 6,7,8a..VSM


STAFF_BME_BY_BAND = np.array([0.45, 0.38, 0.28, 0.22, 0.18, 0.16, 0.15, 0.15])


STAFF_FEMALE_BY_BAND = np.array([0.78, 0.74, 0.68, 0.62, 0.58, 0.52, 0.48, 0.45])


EXT_FEMALE_BY_BAND = np.array([0.62, 0.58, 0.54, 0.50, 0.46, 0.42])


UNKNOWN_ETHNICITY_RATE = 0.04


STAFF_UNKNOWN_ETHNICITY_RATE = 0.03


EXTENDED_CODE_RATE = 0.05


DISABILITY_P = np.array([0.06, 0.84, 0.10])  # Yes, No, Not declared


TWO_POSTS_RATE = 0.05


LETTER_RATE_POST = 0.80


LETTER_COMPLIANCE = 0.90


DIVERSE_PANEL_RATE = (0.35, 0.90)   # pre, post


MANAGERS_PER_VACANCY = 1 / 3


WITHDRAW_APPLICATION = 0.03


WITHDRAW_SHORTLIST = 0.10


WITHDRAW_INTERVIEW = 0.03


OFFER_DECLINE = 0.08


# Internal applicants: staff band -> weights over senior vacancy bands (at or above own band)
ELIGIBLE_WEIGHTS = np.array([
    [0.80, 0.20, 0.00, 0.00, 0.00, 0.00],   # 6
    [0.60, 0.30, 0.10, 0.00, 0.00, 0.00],   # 7
    [0.20, 0.50, 0.30, 0.00, 0.00, 0.00],   # 8a
    [0.00, 0.20, 0.50, 0.30, 0.00, 0.00],   # 8b
    [0.00, 0.00, 0.20, 0.50, 0.30, 0.00],   # 8c
    [0.00, 0.00, 0.00, 0.20, 0.50, 0.30],   # 8d
    [0.00, 0.00, 0.00, 0.00, 0.40, 0.60],   # 9
    [0.00, 0.00, 0.00, 0.00, 0.00, 1.00],   # VSM
])


AGE_P_SENIOR = np.array([[0.06, 0.34, 0.35, 0.21, 0.04], [0.02, 0.22, 0.40, 0.30, 0.06],
                         [0.01, 0.12, 0.42, 0.37, 0.08]])  # young/mid/top band groups


BME_CODE_WEIGHTS = {"D": .04, "E": .03, "F": .04, "G": .04, "H": .16, "J": .07, "K": .05, "L": .10,
                    "M": .10, "N": .20, "P": .03, "R": .05, "S": .09}


WHITE_CODE_WEIGHTS = {"A": .75, "B": .05, "C": .20}


EXTENDED_CODES = {"A": ("AA", "AB"), "C": ("CA", "CB", "CP", "CK"), "G": ("GC", "GE"), "H": ("HA",),
                  "L": ("LH", "LK", "LE"), "N": ("NA", "NC", "NN"), "M": ("MA",), "S": ("SC", "SD", "SE"),
                  "R": ("RA",), "J": ("JA",), "K": ("KA",), "F": ("FA",), "D": ("DA",), "E": ("EA",),
                  "B": ("BA",), "P": ("PA", "PB")}


CRITERIA: tuple[str, ...] = (
    "Leadership", "Strategic thinking", "Communication", "Financial management", "Values and behaviours",
    "Stakeholder engagement", "Quality improvement", "Presentation", "Operational delivery",
    "Team development", "Problem solving", "Equality, diversity and inclusion",
)


ROLE_TITLES: dict[str, tuple[str, ...]] = {
    "8a": ("Service Manager", "Matron", "Lead Nurse", "Finance Manager", "Senior HR Business Partner",
           "Lead Pharmacist", "Senior Project Manager", "Senior Information Analyst", "Estates Manager",
           "Lead Physiotherapist"),
    "8b": ("General Manager", "Head of Nursing", "Head of Finance", "Head of Workforce Planning",
           "Consultant Nurse", "Head of IT Services", "Head of Estates", "Principal Clinical Scientist"),
    "8c": ("Associate Director of Operations", "Deputy Chief Nurse", "Associate Director of Finance",
           "Head of Transformation", "Associate Director of HR", "Chief Pharmacist"),
    "8d": ("Deputy Director of Operations", "Deputy Director of Finance", "Deputy Director of Nursing",
           "Deputy Director of Workforce", "Deputy Chief Information Officer", "Director of Estates"),
    "9": ("Director of Operations", "Director of Strategy", "Director of Transformation",
          "Director of Nursing – Quality", "Chief Information Officer"),
    "VSM": ("Chief Operating Officer", "Chief Nurse", "Chief Financial Officer", "Chief People Officer",
            "Director of Strategy and Partnerships", "Chief Digital Officer"),
}


GUMBEL_MEAN = 0.5772156649015329


GUMBEL_SD = math.pi / math.sqrt(6)
