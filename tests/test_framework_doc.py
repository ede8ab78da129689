"""docs/frameworks.md is enough to write a framework: its examples, copied as a newcomer would copy
them into a folder of their own, validate with the CLI and run in the terminal to a result."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.cli_support import run_cxbot

DOC = Path(__file__).resolve().parent.parent / "docs" / "frameworks.md"
FENCED_YAML = re.compile(r"^```yaml\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def examples() -> list[str]:
    """The ```yaml blocks of the doc: the assessment, then the calculator."""
    found = FENCED_YAML.findall(DOC.read_text(encoding="utf-8"))
    assert len(found) == 2, "the doc has one complete assessment and one complete calculator"
    return found


def cxbot(
    tmp_path: Path, *args: str, lines: tuple[str, ...] = (), **env: str
) -> subprocess.CompletedProcess[str]:
    """`cxbot ARGS...` in `tmp_path`, as the doc says to run it, with `my-frameworks` added."""
    settings = {
        "CXBOT_FRAMEWORKS_PATH": "my-frameworks",
        "CXBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'doc.db'}",
        **env,
    }
    return run_cxbot(*args, cwd=tmp_path, lines=lines, env=settings)


def saved(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "my-frameworks"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_assessment_validates_and_runs_to_a_result(tmp_path: Path) -> None:
    saved(tmp_path, "team-habits.yaml", examples()[0])
    checked = cxbot(tmp_path, "frameworks", "validate", "my-frameworks/team-habits.yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert re.fullmatch(
        r"my-frameworks/team-habits\.yaml: OK \(team-habits, version [0-9a-f]{12}, 3 questions\)\n",
        checked.stdout,
    )
    listed = cxbot(tmp_path, "frameworks")
    assert "team-habits\t" in listed.stdout

    done = cxbot(tmp_path, "chat", "--framework", "team-habits", lines=("1", "Building", "3", "/submit"))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "== Question 1 of 3 - Listening ==" in out
    assert "How often does your team ask people how their contact with you went?" in out
    assert "3. Fixing causes: 3 - Embedded" in out  # the review before /submit
    assert "== Your team habits stage: Building (2.0 of 3) ==" in out  # (1 + 2 + 3) / 3
    assert "Ask five people this month how their last contact went" in out  # feedback: 1.5, starting
    assert "Teach other teams how you find and fix causes." in out  # root causes: 3, embedded


def test_the_example_mistakes_are_reported_as_the_doc_shows(tmp_path: Path) -> None:
    """The doc's sample of a file with mistakes is what `validate` prints for those mistakes."""
    text = examples()[0]
    text = text.replace("language: en\n", "language: en\ntitel: Team habits\n", 1)
    text = text.replace(
        "description: Hardly ever. We hear about problems only when someone complains.",
        "description: Hardly ever. Rarely. We hear about problems. Only when someone complains.",
    )
    saved(tmp_path, "team-habits.yaml", text)
    checked = cxbot(tmp_path, "frameworks", "validate", "my-frameworks/team-habits.yaml")
    assert checked.returncode == 1
    sample = DOC.read_text(encoding="utf-8").split("A file with mistakes answers with", 1)[1]
    shown = sample.split("```\n", 2)[1]  # the sample block
    first, second = checked.stdout.splitlines()[1:3]
    assert checked.stdout.splitlines()[0] == "my-frameworks/team-habits.yaml: 2 problems"
    assert shown.splitlines()[0] == "my-frameworks/team-habits.yaml: 2 problems"
    assert first.startswith(shown.splitlines()[1].removesuffix(" ..."))
    assert second == " ".join(line.strip() for line in shown.splitlines()[2:4]).join(["  ", ""])


def test_the_example_calculator_validates_and_gives_the_figures_the_doc_says(tmp_path: Path) -> None:
    saved(tmp_path, "paper-to-online.yaml", examples()[1])
    checked = cxbot(tmp_path, "frameworks", "validate", "my-frameworks/")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "(paper-to-online, version " in checked.stdout
    assert ", a calculator: 5 inputs, 3 figures)" in checked.stdout

    typed = ("10,000", "6.50", "40%", "1.50", "30,000")
    done = cxbot(tmp_path, "chat", "--framework", "paper-to-online", lines=typed)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "== Figure 5 of 5: Cost of building it ==" in out
    assert "- Yearly saving: 20,000\n  = forms a year x share moved online x (cost of a paper form" in out
    assert "- Share of today's cost saved: 31%\n" in out
    assert "- Payback: 18.0 months\n  = cost of building it / (yearly saving / 12)" in out
    doc = " ".join(DOC.read_text(encoding="utf-8").split())
    assert (
        "yearly saving 20,000 (10,000 x 0.4 x 5.00), share saved 31% (20,000 / 65,000), payback 18.0" in doc
    )


def test_a_broken_file_stops_the_bot_with_the_validate_message(tmp_path: Path) -> None:
    """The doc says a broken file stops the bot at start, with the same message as `validate`."""
    saved(tmp_path, "team-habits.yaml", examples()[0].replace("        short: Fixing causes\n", ""))
    checked = cxbot(tmp_path, "frameworks", "validate", "my-frameworks/team-habits.yaml")
    done = cxbot(tmp_path, "chat", lines=("/start",))
    assert checked.returncode == 1
    assert done.returncode != 0
    problem = "at dimensions[1].questions[0].short: is required: add it"
    assert problem in checked.stdout
    assert problem in done.stderr
