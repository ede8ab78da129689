"""Replies as REST messages: light Markdown that shows text literally and is safe as HTML."""

from __future__ import annotations

from bot.web.rest_render import EMPTY_REPLY, escape_text, markdown_lines, markdown_link, render_replies
from dialogs.types import Band, Button, ButtonRole, Chart, Link, Reply, ReplyKind

CHART = Chart("tok123", "CX", ("A",), (2.0,), (Band("Low", 1, 5),), 1.0, 5.0)


BASE = "https://bot.example"


def test_html_specials_become_character_references() -> None:
    escaped = escape_text('<script>alert("x")</script> & it\'s')
    assert "<" not in escaped
    assert ">" not in escaped
    assert '"' not in escaped
    assert "'" not in escaped
    assert escaped == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; it&#x27;s"


def test_markdown_specials_in_text_are_escaped() -> None:
    assert escape_text("a *b* _c_ `d` [e](f) \\") == "a \\*b\\* \\_c\\_ \\`d\\` \\[e\\](f) \\\\"
    assert escape_text("# not a heading") == "\\# not a heading"
    assert escape_text("===") == "\\==="
    assert escape_text("- a list item stays a list item") == "- a list item stays a list item"


def test_lines_are_kept_with_hard_breaks_and_paragraphs() -> None:
    text = "Question?\n\n1 - One\n2 - Two\n    3 - Indented"
    assert markdown_lines(text) == "Question?\n\n1 - One  \n2 - Two  \n3 - Indented"


def test_links_are_markdown_links_to_http_urls_only() -> None:
    assert markdown_link(Link("OECD [2021]", "https://doi.org/10.1787/x_(y)")) == (
        "[OECD \\[2021\\]](https://doi.org/10.1787/x_%28y%29)"
    )
    assert markdown_link(Link("A&B", "https://e.org/?a=1&b=2")) == "[A&amp;B](https://e.org/?a=1&amp;b=2)"
    assert markdown_link(Link("Bad", "javascript:alert(1)")) == "Bad"


def test_a_reply_renders_title_text_links_buttons_and_chart() -> None:
    reply = Reply(
        text="Your <b>score</b>",
        title="Result *now*",
        buttons=(Button("1 - <Low>", "/answer 1 1 1"), Button("Back", "/back", ButtonRole.NAVIGATION)),
        links=(Link("Guide", "https://example.org/guide"),),
        chart=CHART,
        kind=ReplyKind.RESULT,
    )
    messages = render_replies([reply], "u-1", BASE)
    assert messages == [
        {
            "recipient_id": "u-1",
            "text": "**Result \\*now\\***\n\nYour &lt;b&gt;score&lt;/b&gt;\n\n- [Guide](https://example.org/guide)",
            "buttons": [
                {"title": "1 - &lt;Low&gt;", "payload": "/answer 1 1 1"},
                {"title": "Back", "payload": "/back"},
            ],
        },
        {"recipient_id": "u-1", "image": "https://bot.example/charts/tok123.png"},
    ]


def test_an_answer_acknowledgement_is_a_short_checked_line() -> None:
    reply = Reply(text="Leadership: 3 - Targeted", kind=ReplyKind.ANSWERED)
    assert render_replies([reply], "u", BASE) == [
        {"recipient_id": "u", "text": "\u2713 Leadership: 3 - Targeted"}
    ]


def test_there_is_always_at_least_one_message() -> None:
    assert render_replies([], "u", BASE) == [{"recipient_id": "u", "text": EMPTY_REPLY}]
    assert render_replies([Reply(text="  ")], "u", BASE) == [{"recipient_id": "u", "text": EMPTY_REPLY}]


def test_links_to_the_servers_own_pages_and_campaign_charts_are_absolute() -> None:
    profile = Chart("dash-tok", "Team", ("A",), (2.0,), (Band("Low", 1, 5),), 1.0, 5.0, of="profile", round=2)
    reply = Reply(text="Report", links=(Link("Dashboard", "/dashboard/dash-tok"),), chart=profile)
    messages = render_replies([reply], "u", BASE)
    assert "[Dashboard](https://bot.example/dashboard/dash-tok)" in messages[0]["text"]
    assert messages[1] == {
        "recipient_id": "u",
        "image": "https://bot.example/dashboard/dash-tok/profile.png?round=2",
    }
