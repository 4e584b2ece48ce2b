"""The cultural framework of paper 002 appendix A.1 and user framework files."""

from __future__ import annotations

from collections import Counter

import pytest

from culturalign.errors import ConfigError, DataError
from culturalign.synth.framework import load_framework


def test_builtin_framework_has_38_topics_in_four_levels():
    fw = load_framework()
    assert len(fw.topics) == 38
    assert [lid for lid, _ in fw.levels] == [
        "cultural_values",
        "social_norms",
        "behavioral_practices",
        "specific_customs",
    ]
    assert Counter(t.level for t in fw.topics) == {
        "cultural_values": 16,
        "social_norms": 8,
        "behavioral_practices": 5,
        "specific_customs": 9,
    }
    assert Counter(t.theory for t in fw.topics if t.theory) == {"Schwartz": 10, "Hofstede": 6}
    assert len({t.id for t in fw.topics}) == 38
    assert all(len(t.description) > 40 for t in fw.topics)


def test_select_narrows_by_topic_or_level():
    fw = load_framework()
    assert [t.id for t in fw.select(["food", "clothing"]).topics] == ["food", "clothing"]
    assert len(fw.select(levels=["behavioral_practices"]).topics) == 5
    with pytest.raises(ConfigError, match="unknown topic"):
        fw.select(["fod"])


def test_user_framework_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "name: tiny\nlevels:\n  - id: customs\n    name: Customs\n    topics:\n"
        "      - id: tea\n        name: Tea\n        description: How tea is served to guests.\n"
    )
    fw = load_framework(path)
    assert fw.name == "tiny" and [t.id for t in fw.topics] == ["tea"] and fw.topics[0].level_name == "Customs"


def test_bad_framework_files_report_every_problem_with_its_place(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "levels:\n  - id: a\n    topics:\n      - id: x\n        name: X\n"
        "      - id: x\n        name: Y\n        description: d\n        colour: red\n"
    )
    with pytest.raises(DataError) as err:
        load_framework(path)
    lines = err.value.lines()
    assert f"{path}: levels[0].topics[0].description: required field is missing or empty" in lines
    assert any("levels[0].topics[1].colour: unexpected field" in ln for ln in lines)
    assert any("duplicate topic id 'x'" in ln for ln in lines)
    broken = tmp_path / "broken.yaml"
    broken.write_text("levels: [\n  - : :\n")
    with pytest.raises(DataError, match=r"broken.yaml:\d+: cannot parse"):
        load_framework(broken)
    with pytest.raises(DataError, match="no such framework file"):
        load_framework(tmp_path / "missing.yaml")
