"""The rules file: the packaged rules parse and cover every category; a broken file names the key at fault."""

from __future__ import annotations

import pytest

from tsunagu.laws.core.rules import CATEGORIES, RulesError, default_rules, default_rules_text, parse_rules

MINIMAL = """
version = 1
[[category]]
id = "keiji"
name_ja = "書面掲示"
name_en = "Posting"
technology = "web publication"
confidence = 0.8
  [[category.pattern]]
  id = "p"
  regex = '掲示'
"""


def refused(text: str) -> RulesError:
    with pytest.raises(RulesError) as caught:
        parse_rules(text)
    return caught.value


def test_the_packaged_rules_cover_every_category_with_a_technology() -> None:
    rules = default_rules()
    assert [c.id for c in rules.categories] == list(CATEGORIES)
    for category in rules.categories:
        assert category.patterns
        assert category.technology
        assert 0 < category.confidence <= 1
        assert all(0 < p.confidence <= 1 for p in category.patterns)
    assert {e.id for e in rules.exclusions} >= {"deleted", "definition", "penalty"}


def test_a_minimal_file_and_its_defaults() -> None:
    rules = parse_rules(MINIMAL)
    (category,) = rules.categories
    (pattern,) = category.patterns
    assert (pattern.window, pattern.confidence, pattern.context) == (40, 0.8, None)
    assert rules.category("keiji") is category
    with pytest.raises(KeyError):
        rules.category("mokushi")


def test_an_exclusion_inside_a_category_applies_to_it_only() -> None:
    rules = parse_rules(
        MINIMAL + "  [[category.exclude]]\n  id = 'x'\n  regex = '削除'\n  scope = 'window'\n"
    )
    (exclusion,) = rules.categories[0].exclusions
    assert exclusion.categories == frozenset({"keiji"})
    assert exclusion.scope == "window"


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("regex = '掲示'", "regex = '掲示('"), "category[0].pattern[0].regex"),
        (("regex = '掲示'", "regex = ''"), "category[0].pattern[0].regex"),
        (('id = "keiji"', 'id = "kanban"'), "category[0].id"),
        (("confidence = 0.8", "confidence = 1.5"), "category[0].confidence"),
        (("confidence = 0.8", ""), "category[0].confidence"),
        (('technology = "web publication"', "technology = 3"), "category[0].technology"),
        (("version = 1", "version = 2"), "version"),
        (('  id = "p"\n', '  id = "p"\n  window = -1\n'), "category[0].pattern[0].window"),
    ],
)
def test_a_broken_rule_names_its_key(change: tuple[str, str], key: str) -> None:
    assert refused(MINIMAL.replace(*change)).key == key


def test_unknown_scope_and_category_of_a_global_exclusion_are_refused() -> None:
    bad_scope = MINIMAL + "[[exclude]]\nid = 'x'\nregex = 'a'\nscope = 'law'\n"
    assert refused(bad_scope).key == "exclude[0].scope"
    bad_category = MINIMAL + "[[exclude]]\nid = 'x'\nregex = 'a'\ncategories = ['drone']\n"
    assert refused(bad_category).key == "exclude[0].categories"


def test_duplicate_categories_missing_patterns_and_bad_toml_are_refused() -> None:
    doubled = MINIMAL + MINIMAL.split("\n", 2)[2]
    assert "duplicate" in str(refused(doubled))
    no_patterns = MINIMAL.split("  [[category.pattern]]", maxsplit=1)[0] + "pattern = []\n"
    assert refused(no_patterns).key == "category[0].pattern"
    assert "not valid TOML" in str(refused("version = "))
    assert refused("").key == "version"


def test_the_packaged_text_is_what_default_rules_reads() -> None:
    assert parse_rules(default_rules_text()).categories == default_rules().categories
