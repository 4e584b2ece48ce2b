"""Typed records that flow between stages, named as the papers name things.

Each submodule holds one family of records; everything is re-exported here so that
callers write ``from culturalign.records import CulturalQuestion``.
"""

from culturalign.records.choice import ChoiceItem, NLIItem, ShortAnswerItem
from culturalign.records.generation import ChatMessage, Completion, GenerationParams, ModelResponse
from culturalign.records.judgment import JudgeAttempt, JudgeSample, Judgment
from culturalign.records.knowledge import GroundedQuestion, KnowledgeItem
from culturalign.records.preference import PreferencePair, UnpairedExample
from culturalign.records.question import (
    AssociatedCulture,
    Category,
    CulturalQuestion,
    GeographicScope,
    RatedResponse,
)
from culturalign.records.truefalse import TrueFalseItem

__all__ = [
    "AssociatedCulture",
    "Category",
    "ChatMessage",
    "ChoiceItem",
    "Completion",
    "CulturalQuestion",
    "GenerationParams",
    "GeographicScope",
    "GroundedQuestion",
    "JudgeAttempt",
    "JudgeSample",
    "Judgment",
    "KnowledgeItem",
    "ModelResponse",
    "NLIItem",
    "PreferencePair",
    "RatedResponse",
    "ShortAnswerItem",
    "TrueFalseItem",
    "UnpairedExample",
]
