"""The translations shipped with cxbot: every message in Portuguese with the same placeholders, the
framework overlays checked as the bot checks them at start-up, and `cxbot frameworks validate`."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from dialogs.catalogue import DEFAULT_LOCALE, LOCALES, available_locales, catalogue, placeholders, problems
from frameworks.loader import BUILT_IN_DIR
from frameworks.registry import FrameworkRegistry
from frameworks.scoring import score
from frameworks.translations import FOLDER, TranslationError, Translations, untranslated
from tests.translation_support import translated

ROOT = Path(__file__).resolve().parent.parent
PORTUGUESE = "pt-BR"


def _messages(locale: str) -> dict[str, str]:
    data = yaml.safe_load((LOCALES / f"{locale}.yaml").read_text(encoding="utf-8"))
    return {str(key): str(value) for key, value in data.items()}


@pytest.mark.parametrize("locale", [locale for locale in available_locales() if locale != DEFAULT_LOCALE])
def test_each_catalogue_has_every_english_key_and_its_placeholders(locale: str) -> None:
    english, other = _messages(DEFAULT_LOCALE), _messages(locale)
    assert sorted(set(english) - set(other)) == [], f"{locale}.yaml lacks these keys"
    assert sorted(set(other) - set(english)) == [], f"{locale}.yaml has keys English does not"
    different = {
        key: (sorted(placeholders(english[key])), sorted(placeholders(other[key])))
        for key in english
        if placeholders(english[key]) != placeholders(other[key])
    }
    assert different == {}
    assert problems(locale) == []


def test_every_portuguese_message_can_be_said() -> None:
    english, cat = _messages(DEFAULT_LOCALE), catalogue(PORTUGUESE)
    for key, text in english.items():
        values = {name: f"<{name}>" for name in placeholders(text)}
        said = cat.text(key, **values)
        assert all(f"<{name}>" in said for name in values), key


def test_the_built_in_overlays_pass_the_start_up_check() -> None:
    registry = FrameworkRegistry.from_directories([])
    translations = Translations.from_directories()
    translations.check(registry.all())  # raises TranslationError naming each file and line
    assert PORTUGUESE in translations.locales
    assert translations.overlay("cx-maturity", PORTUGUESE) is not None


def _overlay_files() -> list[Path]:
    return sorted((BUILT_IN_DIR / FOLDER).glob("*.yaml"))


def test_cx_maturity_in_portuguese_leaves_only_the_published_titles_in_english() -> None:
    both = translated("cx-maturity", PORTUGUESE)
    overlay = Translations.from_directories().overlay("cx-maturity", PORTUGUESE)
    assert overlay is not None
    left = untranslated(both.english, overlay)
    titles = [
        f"dimensions.{d.id}.resources.{r.title}.title" for d in both.english.dimensions for r in d.resources
    ]
    assert left == titles
    # what stays the same in both is a title as published or a place's name, nothing else
    assert set(both.kept()) == {r.title for d in both.english.dimensions for r in d.resources} | {
        "Cascais, Portugal"
    }


def test_the_pulse_check_in_portuguese_is_translated_whole() -> None:
    both = translated("cx-pulse", PORTUGUESE)
    overlay = Translations.from_directories().overlay("cx-pulse", PORTUGUESE)
    assert overlay is not None
    assert untranslated(both.english, overlay) == []
    assert both.kept() == []
    # the same words as the full assessment where the two share ids
    maturity = translated("cx-maturity", PORTUGUESE).translated
    assert [s.name for s in both.translated.stages] == [s.name for s in maturity.stages]
    assert [p.label for p in both.translated.scale] == [p.label for p in maturity.scale]
    shared = {d.id: d.name for d in maturity.dimensions}
    assert all(d.name == shared[d.id] for d in both.translated.dimensions if d.id in shared)


def test_a_translation_changes_words_never_scoring() -> None:
    both = translated("cx-maturity", PORTUGUESE)
    english, portuguese = both.english, both.translated
    assert portuguese.version == english.version
    assert portuguese.language == PORTUGUESE
    names = ["Passivo", "Impessoal", "Direcionado", "Personalizado", "Empático"]
    assert [s.name for s in portuguese.stages] == names
    assert [(s.id, s.min_score, s.max_score) for s in portuguese.stages] == [
        (s.id, s.min_score, s.max_score) for s in english.stages
    ]
    answers = {q.id: 1 + index % 5 for index, q in enumerate(english.questions)}
    mine, theirs = score(portuguese, answers), score(english, answers)
    assert (mine.score, mine.stage and mine.stage.id) == (theirs.score, theirs.stage and theirs.stage.id)
    assert portuguese.questions[0].text.startswith("Como você descreveria a liderança")


def test_the_package_ships_every_catalogue_and_overlay() -> None:
    """pyproject's package-data must take each file the bot reads (a wheel without them would run
    in English, or not start)."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]
    shipped = [*LOCALES.glob("*.yaml"), *_overlay_files()]
    for path in shipped:
        package, *inside = path.relative_to(ROOT).parts
        assert any(fnmatch.fnmatch("/".join(inside), pattern) for pattern in patterns[package]), path
    assert _overlay_files(), "no overlays found"


def test_validate_checks_the_overlays_of_a_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frameworks", "validate", str(BUILT_IN_DIR / FOLDER)]) == 0
    out = capsys.readouterr().out
    assert (
        "cx-maturity.pt-BR.yaml: OK (cx-maturity in pt-BR: 231 of 265 texts translated; 34 stay English)"
        in (out)
    )


def test_validate_names_the_line_of_each_problem_in_an_overlay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / FOLDER
    folder.mkdir()
    bad = folder / "cx-maturity.pt-BR.yaml"
    bad.write_text(
        "title: Maturidade\n"
        "stages:\n"
        "  passive:\n"
        "    name: Um nome curto demais para caber em um rótulo, com bem mais de sessenta letras\n"
        "  nada: {name: Nada}\n"
        "dimensions:\n"
        "  self-awareness:\n"
        "    questions:\n"
        "      leadership-culture:\n"
        "        levels:\n"
        "          1: {description: Sem ponto final}\n",
        encoding="utf-8",
    )
    assert main(["frameworks", "validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}: 3 problems" in out
    assert "  line 4: String should have at most 60 characters" in out
    assert "  line 5: stages.nada: not in the framework; there are passive, impersonal" in out
    assert "  line 11: Value error, must be one to three sentences ending in . ! or ? (found 0)" in out
    with pytest.raises(TranslationError, match=r"cx-maturity.pt-BR.yaml:4: String should have at most 60"):
        Translations.from_directories([tmp_path]).check(FrameworkRegistry.from_directories([]).all())


def test_validate_refuses_an_overlay_of_no_framework(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lost = tmp_path / "no-such-framework.pt-BR.yaml"
    lost.write_text("title: Nada\n", encoding="utf-8")
    assert main(["frameworks", "validate", str(lost)]) == 1
    out = capsys.readouterr().out
    assert "there is no framework 'no-such-framework' to translate (the ids are: channel-7c, cx-" in out
    assert "move it there" not in out.split("\n")[0]  # a problem, not an OK with a note
