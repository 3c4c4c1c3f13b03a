"""Phrase bank for the synthetic free text (generator only).

An evaluative sentence is ``opener + subject + " " + body``.  Bodies are
predicate phrases per theme (``tasks.core.vocabulary.THEMES``) and polarity.
Positive bodies use recruitment-positive language ("exceptional",
"outstanding", "strong", "impressive" ...), negative bodies use
recruitment-negative language ("lacked", "limited", "not yet ready",
"struggled", "would benefit from" ...).  All text is Windows-1252
representable; some bodies contain "–" and "£" on purpose.
"""
from __future__ import annotations

from tasks.core.vocabulary import THEMES

BODIES: dict[str, dict[str, tuple[str, ...]]] = {
    "leadership": {
        "pos": (
            "showed exceptional leadership of a large multidisciplinary team.",
            "gave an outstanding account of leading a service through major change.",
            "demonstrated strong, visible leadership and a clear sense of direction.",
            "described an impressive record of developing and empowering senior staff.",
            "provided compelling examples of leading teams through winter pressures – with real credibility.",
            "showed excellent judgement when describing how they had turned around an underperforming team.",
        ),
        "neg": (
            "lacked convincing examples of leading large teams.",
            "struggled to describe how they would hold senior colleagues to account.",
            "gave limited evidence of leading change at scale.",
            "is not yet ready to lead a directorate of this size.",
            "would benefit from further experience of line-managing senior staff.",
            "gave an unconvincing account of managing conflict within a team.",
        ),
    },
    "strategy": {
        "pos": (
            "set out an outstanding strategic vision for the service.",
            "showed strong strategic thinking and linked the role to the Trust's five-year plan.",
            "gave an impressive analysis of the integrated care system landscape.",
            "presented a compelling and well-structured strategy for the first 100 days.",
            "demonstrated excellent awareness of national policy and its local implications.",
        ),
        "neg": (
            "struggled to articulate a strategic vision beyond operational delivery.",
            "offered limited strategic insight into the wider system.",
            "lacked a clear plan for the first year in post.",
            "would benefit from developing a more strategic perspective.",
            "gave an unconvincing answer on long-term service planning.",
        ),
    },
    "communication": {
        "pos": (
            "communicated with exceptional clarity and confidence.",
            "gave an outstanding presentation that was concise and engaging.",
            "was an impressive, articulate communicator throughout the interview.",
            "showed strong listening skills and answered questions directly.",
            "wrote an excellent briefing paper for the written exercise.",
        ),
        "neg": (
            "struggled to communicate key points concisely.",
            "gave answers that lacked structure and clarity.",
            "showed limited ability to adapt their message to the audience.",
            "would benefit from developing a more confident presentation style.",
            "gave an unconvincing presentation that ran over time.",
        ),
    },
    "finance_operations": {
        "pos": (
            "showed strong financial acumen, including managing a £4m budget.",
            "gave an impressive account of delivering a £1.2m cost-improvement programme.",
            "demonstrated excellent grip of operational performance and activity data.",
            "described outstanding delivery against the 18-week referral-to-treatment standard.",
            "showed exceptional command of workforce planning and rostering.",
        ),
        "neg": (
            "lacked experience of managing a budget of this size (over £10m).",
            "struggled with the financial scenario in the in-tray exercise.",
            "showed limited understanding of operational performance metrics.",
            "would benefit from more exposure to business planning and financial control.",
            "gave an unconvincing account of delivering cost improvements.",
        ),
    },
    "values_compassion": {
        "pos": (
            "demonstrated outstanding commitment to the Trust's values and to patient care.",
            "spoke with impressive compassion about supporting staff wellbeing.",
            "showed strong commitment to equality, diversity and inclusion.",
            "gave an excellent example of putting patients first in a difficult situation.",
            "was exceptional in describing how they create a culture of kindness and respect.",
        ),
        "neg": (
            "gave limited examples of promoting an inclusive culture.",
            "struggled to link their approach to the Trust's values.",
            "lacked a clear account of how they support staff wellbeing.",
            "would benefit from reflecting further on compassionate leadership.",
            "gave an unconvincing answer to the values-based question.",
        ),
    },
    "experience_readiness": {
        "pos": (
            "brings exceptional experience at this level and is ready to step up immediately.",
            "has an outstanding track record in a comparable role.",
            "showed strong readiness for the role – clearly operating at this level already.",
            "has impressive breadth of experience across acute and community services.",
            "has excellent, directly relevant experience in a large teaching hospital.",
        ),
        "neg": (
            "is not yet ready for a role at this level.",
            "has limited experience at this band.",
            "lacked the depth of senior experience the role requires.",
            "would benefit from a period in a deputy role first.",
            "struggled to evidence experience beyond their current remit.",
        ),
    },
    "stakeholder_engagement": {
        "pos": (
            "showed outstanding skill in building relationships with clinicians and partners.",
            "gave an impressive account of engaging primary care and local authority colleagues.",
            "demonstrated strong stakeholder management with the integrated care board.",
            "described excellent work with patient groups and Healthwatch.",
            "was exceptional at influencing senior clinicians without direct authority.",
        ),
        "neg": (
            "gave limited evidence of engaging external partners.",
            "struggled to describe how they would influence senior clinicians.",
            "lacked experience of working with the wider system.",
            "would benefit from broader stakeholder engagement experience.",
            "gave an unconvincing account of managing a difficult stakeholder.",
        ),
    },
    "quality_improvement": {
        "pos": (
            "gave an outstanding example of a quality improvement project that reduced falls.",
            "showed strong knowledge of improvement methodology and measurement.",
            "described an impressive programme that cut length of stay by two days.",
            "demonstrated excellent use of data to drive improvement and patient safety.",
            "showed exceptional commitment to learning from incidents and complaints.",
        ),
        "neg": (
            "showed limited knowledge of quality improvement methods.",
            "struggled to give a measurable example of improvement.",
            "lacked a clear approach to patient safety and learning from incidents.",
            "would benefit from formal quality improvement training.",
            "gave an unconvincing account of how they use data to improve services.",
        ),
    },
}


assert set(BODIES) == set(THEMES), "phrase bank must cover every vocabulary theme"


# Openers; "{author}" is replaced by a panel member's title and name (planted personal data).
OPENERS: tuple[str, ...] = (
    "", "", "", "At interview, ", "Overall, ", "In the presentation, ", "During the scenario exercise, ",
    "The panel felt that ", "In our view, ", "On balance, ", "In discussion, ", "In the stakeholder panel, ",
)


AUTHOR_OPENERS: tuple[str, ...] = ("{author} noted that ", "{author} felt that ", "According to {author}, ")


SUBJECTS_GENERIC: tuple[str, ...] = ("the candidate", "the applicant")


LETTER_OPENINGS: tuple[str, ...] = (
    "Dear Chief Executive,",
    "Dear Chief Executive – re: senior appointment,",
    "To the Chief Executive,",
)


LETTER_INTRO: tuple[str, ...] = (
    "I am writing as panel chair to explain our decision for the post of {job} ({vac}).",
    "Following the interviews for {job} ({vac}), I set out below the reasons for the panel's choice.",
    "As required under the inclusive recruitment programme, this letter explains the appointment to {job} ({vac}).",
)


LETTER_CLOSINGS: tuple[str, ...] = ("Yours sincerely,", "Kind regards,", "With best wishes,")
