"""What annotators are asked, in one place: task names, choices and scale guidance.

The rank-and-rate scale (1-10) and the classification dimensions follow CARE's
annotation guideline (paper 000 §3.2 and appendix A, Figs. 14 and 16-20); the rubric
criteria (1-5) follow the grounded-evaluation human study (paper 003 §6.2). The
guidance text is written for this tool; it restates the papers' criteria, not their words.
"""

from __future__ import annotations

from culturalign.records.question import AssociatedCulture, Category, GeographicScope

RANK = "rank"
CLASSIFY = "classify"
RUBRIC = "rubric"
TASKS = (RANK, CLASSIFY, RUBRIC)
DEFAULT_TASKS = (RANK, CLASSIFY)
TASK_TITLES = {RANK: "Rank & rate", CLASSIFY: "Classify", RUBRIC: "Rubric"}
TASKS_NEEDING_RESPONSES = (RANK, RUBRIC)

RATING_MIN, RATING_MAX = 1, 10
RUBRIC_MIN, RUBRIC_MAX = 1, 5

# CARE's rating bands (appendix A, Fig. 14), paraphrased.
RATING_BANDS: list[tuple[str, str, str]] = [
    ("9-10", "Excellent", "accurate throughout, detailed, nothing off-topic"),
    ("7-8", "Good", "accurate on the whole, covers every part of the question, little padding"),
    ("5-6", "Average", "mostly right with small slips, covers most of the question"),
    ("3-4", "Below average", "partly right, leaves parts of the question unanswered"),
    ("1-2", "Poor", "largely wrong, thin, or beside the point"),
]
RATING_GUIDANCE = [
    "Put the responses in order, best first, then give each one a rating from 1 (poor) to 10 (excellent).",
    "Judge against the reference answer: is the response accurate, relevant and detailed enough?",
    "A response with wrong information should get less than 6; among correct ones, more useful detail earns more.",
    "A response that does not answer the question at all (it asks new questions, repeats itself, "
    "drifts off) is flagged 'not an answer' and gets no rating.",
    "A response ranked higher may never have a lower rating than one ranked below it.",
]

# Grounded-evaluation rubric (paper 003 §6.2): criterion key, title, what it asks.
RUBRIC_CRITERIA: list[tuple[str, str, str]] = [
    ("usefulness", "Usefulness", "How informative and helpful is the response for the person asking?"),
    (
        "cultural_awareness",
        "Cultural awareness",
        "Does the response show that it understands the cultural context and its nuances?",
    ),
    (
        "coherence",
        "Coherence",
        "Does the response read as one meaningful whole and stay on the topic of the conversation?",
    ),
]
RUBRIC_KEYS = tuple(k for k, _, _ in RUBRIC_CRITERIA)

# Classification dimensions (paper 000 appendix A.1, Figs. 16-18).
ASSOCIATED_CHOICES: list[tuple[str, str, str]] = [
    # Worded relative to the culture the question was collected for, never to the
    # annotator: read as "my own culture", a colleague from elsewhere answers the opposite.
    (AssociatedCulture.NATIVE.value, "Native", "about the culture this question was collected for"),
    (
        AssociatedCulture.FOREIGN.value,
        "Foreign",
        "about a specific culture other than the one this question was collected for",
    ),
    (AssociatedCulture.GENERAL.value, "General", "not tied to any one culture"),
]
CATEGORY_CHOICES: list[tuple[str, str, str]] = [
    (
        Category.ENTITIES.value,
        "Cultural entities",
        "objective facts about culture-specific things; one right answer",
    ),
    (Category.OPINION.value, "Opinion", "open-ended, subjective questions about cultural entities"),
    (Category.SOCIAL_NORMS.value, "Social norms", "accepted behaviour in interactions between people"),
    (
        Category.COMMONSENSE.value,
        "Cultural commonsense",
        "everyday phenomena that locals take for granted",
    ),
    (
        Category.LITERACY.value,
        "Literacy",
        "proverbs, idioms, slang, and cultural works such as literature or film",
    ),
]
SCOPE_CHOICES: list[tuple[str, str, str]] = [
    (GeographicScope.SUB_NATIONAL.value, "Sub-nationwide", "a region or city within a country"),
    (GeographicScope.NATIONAL.value, "Nationwide", "a whole country"),
    (GeographicScope.CONTINENT_WIDE.value, "Continent-wide", "several countries, e.g. a continent"),
    (GeographicScope.WORLDWIDE.value, "Worldwide", "holds everywhere"),
]

# Published spellings used by the CARE release (culture_type / associated_culture columns).
CARE_CATEGORY_SPELLING = {
    Category.ENTITIES.value: "Cultural entities",
    Category.OPINION.value: "Opinion",
    Category.SOCIAL_NORMS.value: "Social norms",
    Category.COMMONSENSE.value: "Cultural commonsense",
    Category.LITERACY.value: "Literacy",
}

# Fields of a classification, in the order the agreement report lists them.
CLASSIFY_FIELDS = (
    "culture_related",
    "associated_culture",
    "category",
    "geographic_scope",
    "moral_sensitive",
    "temporal_sensitive",
)


# Why an annotator may skip a task (the form also takes free text).
SKIP_REASONS: list[tuple[str, str]] = [
    ("language", "I cannot read the question or responses well enough"),
    ("culture", "I do not know this culture well enough to judge"),
    ("broken", "The question or a response is broken or unreadable"),
    ("other", "Another reason (say which in the comment)"),
]
COMMENT_MAX = 2000


def response_label(index: int) -> str:
    """Blind display labels: A, B, ..., Z, AA, AB, ... (producers are never shown)."""
    label = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        label = chr(ord("A") + rem) + label
    return label
