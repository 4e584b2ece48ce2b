"""Reading generated questions and the final rewritten question out of model text."""

from __future__ import annotations

from culturalign.synth.dedup import NearDuplicateFilter
from culturalign.synth.parse import normalize_question, parse_final_question, parse_question_list


def test_numbered_bulleted_and_labelled_lists():
    text = (
        "Sure! Here are four questions:\n\n"
        "1. When a colleague invites you home, what do you bring?\n"
        "2) How do you feel about adult children\n   living with their parents?\n"
        "- **Scenario:** Your manager asks you to work on a holiday. What do you do?\n"
        '* "Is it rude to refuse food offered by a host?"\n\n'
        "I hope these help!"
    )
    assert parse_question_list(text) == [
        "When a colleague invites you home, what do you bring?",
        "How do you feel about adult children living with their parents?",
        "Your manager asks you to work on a holiday. What do you do?",
        "Is it rude to refuse food offered by a host?",
    ]


def test_json_lists_and_fallbacks():
    fenced = (
        '```json\n["How often do you visit grandparents?", {"question": "What makes a good teacher?"}]\n```'
    )
    assert parse_question_list(fenced) == [
        "How often do you visit grandparents?",
        "What makes a good teacher?",
    ]
    assert parse_question_list('{"questions": ["Who pays at a first dinner?"]}') == [
        "Who pays at a first dinner?"
    ]
    assert parse_question_list("What do you think of tipping in restaurants?\nWhy?") == [
        "What do you think of tipping in restaurants?"
    ]
    assert parse_question_list("I cannot help with that.") == []
    assert parse_question_list("") == []
    # duplicates inside one answer are dropped
    assert parse_question_list("1. Do you bow?\n2. Do you bow to elders?\n3. do you BOW to elders?") == [
        "Do you bow to elders?"
    ]


def test_final_question_markers():
    cot = (
        "Step 1: China stresses harmony? Yes.\n"
        "Step 2: the UK stresses privacy.\n"
        "**Final question:** How do grandparents' views shape big family decisions in your home?\n\n"
        "Hope this helps."
    )
    q, reasoning = parse_final_question(cot)
    assert q == "How do grandparents' views shape big family decisions in your home?"
    assert reasoning.startswith("Step 1") and "Hope" not in reasoning
    assert parse_final_question('Refined question:\n"How do elders shape family decisions?"')[0] == (
        "How do elders shape family decisions?"
    )
    assert parse_final_question('... {"question": "How do elders shape family decisions?"}')[0] == (
        "How do elders shape family decisions?"
    )
    soft = "The answers differ.\nHere is the rewritten question.\n\nWhat does respect for elders look like at your table?"
    assert parse_final_question(soft) == (
        "What does respect for elders look like at your table?",
        "The answers differ.",
    )
    assert parse_final_question("Here is a new question for you:\n\nI like tea.")[0] is None
    # the last marker wins; a question mark in the reasoning is not trusted
    two = "Final question: draft?\nNo wait.\nFinal question: What do weddings cost your family?"
    assert parse_final_question(two)[0] == "What do weddings cost your family?"
    assert parse_final_question("Is family important? Very.") == (None, "Is family important? Very.")


def test_normalized_keys_and_greedy_dedup():
    assert normalize_question("  Do you BOW, to élders? ") == normalize_question("do you bow to elders")
    f = NearDuplicateFilter(encode=None)
    assert f.admit(["A question here?", "a question HERE", "Another one?"]) == [True, False, True]
    assert f.admit(["Another one"], limit=5) == [False] and f.dropped_exact == 2
    assert f.admit(["New one?", "Newer one?"], limit=1) == [True, False]
