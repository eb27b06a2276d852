"""[notify]: templates, which events make a message, and the config that holds it."""

from __future__ import annotations

import tomllib

import pytest

from queue_server.config import ConfigError, parse_config
from queue_server.domain import commands as cmd
from queue_server.domain.notify import Planner, TemplateError, check_template, render
from queue_server.domain.settings import DEFAULT_NOTIFY_TEMPLATES, NotifyConfig
from queue_server.store.settings import as_data, from_data, to_toml
from tests.domain.office_factory import Desk
from tests.support.server import SMALL_OFFICE_TOML

ON = NotifyConfig(url="http://127.0.0.1:9/send")


def test_render_fills_every_placeholder() -> None:
    values = {"number": "A007", "service": "KTP", "counter": "Loket 2", "office": "Kec."}
    text = render("{office}: {number} {service} -> {counter}", values)
    assert text == "Kec.: A007 KTP -> Loket 2"


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("{phone}", "unknown placeholder {phone}"),
        ("{number.__class__}", "unknown placeholder"),
        ("{number[0]}", "unknown placeholder"),
        ("{number:>10}", "takes no format"),
        ("{number!r}", "takes no format"),
        ("nomor {number", "not a valid template"),
        ("   ", "must not be empty"),
    ],
)
def test_a_bad_template_is_refused_with_the_reason(template: str, why: str) -> None:
    with pytest.raises(TemplateError, match=why.replace("{", r"\{").replace("[", r"\[")):
        check_template(template)


def test_the_default_templates_are_valid_in_both_languages() -> None:
    for kinds in DEFAULT_NOTIFY_TEMPLATES.values():
        for text in kinds.values():
            check_template(text)


def test_a_call_and_a_recall_each_make_one_called_message_in_the_office_language() -> None:
    desk = Desk()
    ticket = desk.issue("a")
    desk.issue("b")  # no call: no message
    planner = Planner(ON, "Kantor Uji", "id")
    desk.events.clear()
    desk.call("1")
    desk.do(cmd.Recall("1"))
    messages = planner.messages(desk.state, desk.events, "2026-11-27T08:00:05+08:00")
    called, recalled = (e for e in desk.events if e.TYPE in ("ticket.called", "ticket.recalled"))
    assert [(m.ticket_id, m.kind, m.event_seq) for m in messages] == [
        (ticket.id, "called", called.seq),
        (ticket.id, "called", recalled.seq),
    ]
    assert messages[0].payload["text"] == (
        "Kantor Uji: nomor antrean A001 (Layanan A) dipanggil. Silakan menuju Loket 1."
    )
    assert messages[0].payload["ticket"] == {
        "number": "A001",
        "service": "a",
        "service_name": "Layanan A",
        "counter": "1",
        "counter_name": "Loket 1",
    }
    assert "phone" not in str(messages[0].payload)  # the phone is joined in by the store only


def test_templates_and_language_come_from_the_config() -> None:
    desk = Desk()
    desk.issue("a")
    config = NotifyConfig(
        url=ON.url, language="en", templates=(("en", (("called", "{number} to {counter}"),)),)
    )
    desk.events.clear()
    desk.call("1")
    (message,) = Planner(config, "Kantor Uji", "id").messages(desk.state, desk.events, "x")
    assert (message.payload["language"], message.payload["text"]) == ("en", "A001 to Loket 1")
    assert config.template("en", "come_now") == DEFAULT_NOTIFY_TEMPLATES["en"]["come_now"]


def test_no_message_while_notify_is_off() -> None:
    desk = Desk()
    desk.issue("a")
    desk.call("1")
    assert Planner(NotifyConfig(), "Kantor Uji", "id").messages(desk.state, desk.events, "x") == []


NOTIFY_TOML = """
[notify]
url = "https://gateway.example/send"
secret = "0123456789abcdef-rahasia"
language = "en"
timeout_seconds = 5
max_attempts = 7
max_age_minutes = 30
first_retry_seconds = 0.5
max_retry_seconds = 60

[notify.templates.id]
called = "Nomor {number}, silakan ke {counter}"

[notify.templates.en]
come_now = "Please come now, {number}"
"""


def test_notify_config_is_read_and_round_trips_through_export() -> None:
    config = parse_config(SMALL_OFFICE_TOML + NOTIFY_TOML)
    notify = config.notify
    assert notify.enabled and notify.language == "en" and notify.max_attempts == 7
    assert notify.template("id", "called") == "Nomor {number}, silakan ke {counter}"
    assert notify.template("id", "come_now") == DEFAULT_NOTIFY_TEMPLATES["id"]["come_now"]
    exported = to_toml(from_data(as_data(config)))
    tomllib.loads(exported)
    assert parse_config(exported).notify == notify


def test_an_office_without_notify_exports_no_notify_table() -> None:
    config = parse_config(SMALL_OFFICE_TOML)
    assert not config.notify.enabled
    assert "notify" not in as_data(config)
    assert "[notify]" not in to_toml(config)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('url = "ftp://x"', "notify.url: must start with http"),
        ('url = "http://x"\nsecret = "short"', "notify.secret: must be at least 16"),
        ('language = "jv"', "notify.language"),
        ("timeout_seconds = 0", "notify.timeout_seconds"),
        ("max_attempts = 0", "notify.max_attempts"),
        ("first_retry_seconds = 0", "notify.first_retry_seconds"),
        ("max_retry_seconds = 1\nfirst_retry_seconds = 2", "notify.max_retry_seconds"),
        ("colour = 1", "notify.colour: unknown key"),
        ('[notify.templates.id]\ncalled = "{nama}"', "notify.templates.id.called: unknown placeholder"),
        ('[notify.templates.id]\nbye = "x"', "notify.templates.id.bye: unknown key"),
        ('[notify.templates.fr]\ncalled = "x"', "notify.templates.fr: unknown key"),
    ],
)
def test_a_bad_notify_key_is_named(table: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        parse_config(SMALL_OFFICE_TOML + "\n[notify]\n" + table + "\n")


def test_come_now_is_planned_once_per_remote_ticket_when_its_view_turns_true() -> None:
    from queue_server.domain.settings import RemotePolicy, ServiceConfig
    from queue_server.domain.tickets import Ticket

    services = (ServiceConfig("a", "Layanan A", "A", remote_quota=10), ServiceConfig("b", "Layanan B", "B"))
    desk = Desk(services=services, remote=RemotePolicy(enabled=True, come_now_position=1, lead_minutes=0))
    planner = Planner(ON, "Kantor Uji", "id")

    def remote() -> Ticket:
        ticket: Ticket = desk.do(cmd.IssueRemote("a", 1, f"r{desk.state.seq}", desk.state.day)).result
        return ticket

    def plan() -> list[tuple[int, str, int]]:
        found = planner.messages(desk.state, desk.events, "now")
        desk.events.clear()
        return [(m.ticket_id, m.kind, m.event_seq) for m in found]

    walk_in = desk.issue("a")
    first, second = remote(), remote()  # 1 ahead (come now), 2 ahead (not yet)
    assert plan() == [(first.id, "come_now", 0)]
    assert plan() == []  # still true, never again
    desk.call("1")  # the walk-in is called: the second now has 1 ahead
    called = next(e for e in desk.events if e.TYPE == "ticket.called")
    assert plan() == [(walk_in.id, "called", called.seq), (second.id, "come_now", 0)]
    desk.do(cmd.CheckIn(first.id))
    assert plan() == []  # checked in: no longer remote, and come-now was sent already
