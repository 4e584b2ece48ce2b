"""Typed records that flow between stages, named as the papers name things.

Each submodule holds one family of records; everything is re-exported here so that
callers write ``from culturalign.records import CulturalQuestion``.
"""

from culturalign.records.choice import ChoiceItem, NLIItem, ShortAnswerItem
from culturalign.records.generation import ChatMessage, Completion, GenerationParams, ModelResponse
from culturalign.records.grounded import GroundedEvalItem, JudgedAnswer, KnowledgeText
from culturalign.records.judgment import JudgeAttempt, JudgeSample, Judgment
from culturalign.records.knowledge import GroundedQuestion, KnowledgeItem
from culturalign.records.preference import PreferencePair, SFTExample, UnpairedExample
from culturalign.records.question import (
    AssociatedCulture,
    Category,
    CulturalQuestion,
    GeographicScope,
    RatedResponse,
)
from culturalign.records.synth import AdaptedQuestion, CulturalSample, SelectionPick, SynthQuestion
from culturalign.records.truefalse import TrueFalseItem

__all__ = [
    "AdaptedQuestion",
    "AssociatedCulture",
    "Category",
    "ChatMessage",
    "ChoiceItem",
    "Completion",
    "CulturalQuestion",
    "CulturalSample",
    "GenerationParams",
    "GeographicScope",
    "GroundedEvalItem",
    "GroundedQuestion",
    "JudgeAttempt",
    "JudgeSample",
    "JudgedAnswer",
    "Judgment",
    "KnowledgeItem",
    "KnowledgeText",
    "ModelResponse",
    "NLIItem",
    "PreferencePair",
    "RatedResponse",
    "SFTExample",
    "SelectionPick",
    "ShortAnswerItem",
    "SynthQuestion",
    "TrueFalseItem",
    "UnpairedExample",
]
