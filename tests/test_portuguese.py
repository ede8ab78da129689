"""A whole CX assessment in Brazilian Portuguese, from /start to the result: in the terminal
(`cxbot chat --language pt-BR`), through the webhook (`metadata.language`) and in Telegram
(`language_code`). The words shown are the translation's; no English is left where a translation
exists; the scores are the English framework's. (The web chat's run is in test_webchat_e2e.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dialogs.catalogue import catalogue
from frameworks.schema import Framework
from frameworks.scoring import Result, score
from tests.telegram_fake.user import FakeUser
from tests.test_telegram_harness import running_bot
from tests.test_terminal import cxbot
from tests.translation_support import english_left, translated
from tests.webhook_support import running_app, say, settings_for, texts

PT = "pt-BR"
ANSWERS = (3, 4, 3, 2, 3, 3, 4, 4, 3, 3, 2)
"""Mean 34 / 11 = 3.1: Targeted ("Direcionado"), with recommendations from three stages."""
CAT = catalogue(PT)


def portuguese() -> Framework:
    return translated("cx-maturity", PT).translated


def result() -> Result:
    framework = portuguese()
    return score(framework, {q.id: value for q, value in zip(framework.questions, ANSWERS, strict=True)})


def flat(text: str) -> str:
    """Text with every run of white space as one space (channels wrap and mark up differently)."""
    return " ".join(text.split())


def assert_the_run_was_in_portuguese(shown: str) -> None:
    """The questions, their levels, the stage and the recommendations of the result are the
    translation's words, and no English text it translates is left."""
    shown, framework, scored = flat(shown), portuguese(), result()
    first = framework.questions[0]
    assert flat(first.text) in shown
    for level in first.levels:
        assert flat(level.description) in shown
    assert flat(framework.questions[-1].text) in shown
    assert scored.stage is not None
    assert (scored.stage.id, scored.stage.name) == ("targeted", "Direcionado")
    assert flat(scored.stage.description) in shown
    assert "Maturidade em CX — seu estágio: Direcionado (3,1 de 5)" in shown
    assert len(scored.recommendations) == 11
    for recommendation in scored.recommendations:
        assert flat(recommendation.text) in shown
    assert f"{CAT.text('result_recommendations_title')}" in shown
    assert "3.1" not in shown, "scores are written with a decimal comma in Portuguese"
    assert english_left(shown, "cx-maturity", PT) == []


def test_a_whole_run_in_portuguese_in_the_terminal(tmp_path: Path) -> None:
    framework = portuguese()
    typed = [str(value) for value in ANSWERS]
    typed[2] = "Direcionado"  # a level's name, in the person's language
    typed[5] = f"3 - {framework.scale[2].label}"  # a button's title, as the terminal shows it
    done = cxbot(tmp_path, ["/start cx-maturity", *typed, "Concluir"], "--language", PT)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = done.stdout
    assert "== Pergunta 1 de 11 - Autoconhecimento organizacional ==" in out
    assert "== Pergunta 11 de 11 - Contexto e confiança do cidadão ==" in out
    assert "Opções: [1 - Passivo] | [2 - Impessoal] | [3 - Direcionado]" in out
    assert "== Suas respostas: Maturidade em experiência do cidadão (CX) ==" in out
    assert "3. Servidores preparados para as iniciativas de CX: 3 - Direcionado" in out
    assert CAT.text("terminal_chart") in out
    assert "\nConhecimento sobre o cidadão\n- Colaboração (de Impessoal para Direcionado): " in out
    assert_the_run_was_in_portuguese(out)


def test_language_switches_in_the_middle_of_a_run_and_keeps_the_answers(tmp_path: Path) -> None:
    done = cxbot(tmp_path, ["/start cx-maturity", "3", "4", "/language português", "/review"])
    assert done.returncode == 0, done.stderr
    before, _, after = done.stdout.partition(CAT.text("language_set", name=CAT.name))
    assert "== Question 3 of 11 - Organizational self-awareness ==" in before
    assert "== Pergunta 3 de 11 - Autoconhecimento organizacional ==" in after  # shown again, translated
    assert flat(portuguese().questions[2].text) in flat(after)
    assert "1. Liderança e cultura: 3 - Direcionado" in after
    assert "2. Plano de CX e orçamento: 4 - Personalizado" in after
    # the choice is stored: a later session speaks Portuguese without being asked to
    again = cxbot(tmp_path, ["/help"])
    assert CAT.text("help_title") in again.stdout


async def test_a_whole_run_in_portuguese_through_the_webhook(tmp_path: Path) -> None:
    hint = {"metadata": {"language": "pt-br"}}  # any case: tags are matched as BCP 47 says
    async with running_app(settings_for(tmp_path)) as (client, engine):
        shown: list[dict[str, Any]] = await say(client, "ana", "/start cx-maturity", **hint)
        assert "**Pergunta 1 de 11 - Autoconhecimento organizacional**" in texts(shown)
        for number, value in enumerate(ANSWERS, start=1):
            buttons = shown[-1]["buttons"]
            label = f"{value} - {portuguese().scale[value - 1].label}"
            if number == 4:  # a bridge that sends the hint only now and then: the stored one holds
                messages = await say(client, "ana", str(value))
            else:
                payload = next(b["payload"] for b in buttons if b["title"] == label)
                messages = await say(client, "ana", payload, **hint)
            assert messages[0]["text"].startswith("\u2713 "), messages[0]
            assert label in messages[0]["text"]
            shown += messages
        submit = next(b["payload"] for b in shown[-1]["buttons"] if b["title"] == CAT.text("button_submit"))
        shown += await say(client, "ana", submit, **hint)
        assert_the_run_was_in_portuguese(texts(shown))
        assert texts(shown).count("**Recomendações para chegar ao próximo estágio**") == 1
        # the chart's picture, asked for by its address, draws the scores with a decimal comma too
        [image] = [m["image"] for m in shown if m.get("image")]
        token = image.rsplit("/", 1)[-1].split(".")[0]
        charts = [await engine.chart(token, language) for language in ("pt-BR", "en")]
        assert [c.decimal_mark if c is not None else None for c in charts] == [",", "."]
        address = urlsplit(image)
        assert "lang=pt" in address.query.lower(), image
        picture = await client.get(f"{address.path}?{address.query}" if address.query else address.path)
        assert (picture.status, picture.content_type) == (200, "image/png")


async def test_a_whole_run_in_portuguese_in_telegram(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        user = FakeUser(bot.server, 20_002, "Ana", language_code=PT)
        framework = portuguese()
        await user.send_text("/start cx-maturity")
        for number, value in enumerate(ANSWERS, start=1):
            question = await bot.wait_for(user, f"Pergunta {number} de 11")
            await user.press(f"{value} - {framework.scale[value - 1].label}", message=question)
            await user.wait_for_callback_answer()
        review = await bot.wait_for(user, CAT.text("review_title", title=framework.title))
        await user.press(CAT.text("button_submit"), message=review)
        await user.wait_for_callback_answer()
        await bot.wait_for(user, CAT.text("result_footer"))
        shown = "\n".join(message.text or "" for message in user.bot_messages())
        assert_the_run_was_in_portuguese(shown)
        assert CAT.text("telegram_your_answer", answer="3 - Direcionado") in shown
