"""Templates: parsing, rendering per agent, mapping spans back, and the template files."""
from __future__ import annotations

import pytest

from quarterdeck.core.compose.templates import (
    TemplateError,
    TemplateInfo,
    check_template_name,
    doubled_prefix,
    list_templates,
    load_template,
    placeholders,
    render,
    render_mapped,
    save_template,
    suggested_fields,
    user_templates_dir,
)
from quarterdeck.core.models import Agent, DryRunTransport


def agent(agent_id: str = "Agent-3", role: str = "frontend") -> Agent:
    return Agent(id=agent_id, role=role, transport=DryRunTransport())


def test_render_fills_agent_id_and_role():
    assert render("Hi {agent_id}, you are {role}.", agent()) == "Hi Agent-3, you are frontend."


def test_render_never_doubles_the_prefix():
    assert render("Hello Agent-{agent_id}!", agent()) == "Hello Agent-3!"
    assert render("hello agent-{agent_id}", agent()) == "hello Agent-3"
    assert render("to my-agent-{agent_id}", agent("my-agent-7")) == "to my-agent-7"
    assert render("Agent {agent_id}", agent()) == "Agent Agent-3"  # no separator: not a prefix


def test_doubled_prefix_only_counts_whole_separated_prefixes():
    assert doubled_prefix("Hello Agent-", "Agent-3") == 6
    assert doubled_prefix("Hello Agen", "Agent-3") == 0
    assert doubled_prefix("", "Agent-3") == 0


def test_doubled_prefix_is_not_taken_from_a_previous_value():
    assert render("{role}{agent_id}", agent("Agent-1", "Agent-")) == "Agent-Agent-1"


def test_escaped_braces_are_literal():
    assert render("json {{\"a\": 1}} for {agent_id}", agent()) == 'json {"a": 1} for Agent-3'
    assert render("a lone } stays", agent()) == "a lone } stays"


def test_unknown_placeholder_error_names_it_and_where():
    with pytest.raises(TemplateError) as caught:
        render("Hi {agent_id}\nyour {team} is ready", agent())
    err = caught.value
    assert err.name == "team"
    assert (err.line, err.col) == (2, 6)
    assert err.span == (19, 25)
    assert "unknown placeholder {team}" in str(err)
    assert str(err).startswith("line 2, column 6:")


def test_unclosed_brace_is_an_error_with_its_position():
    with pytest.raises(TemplateError) as caught:
        placeholders("ok\nbad {agent_id and more")
    assert (caught.value.line, caught.value.col) == (2, 5)
    assert "never closed" in str(caught.value)


def test_a_brace_closed_only_on_a_later_line_is_unclosed():
    with pytest.raises(TemplateError, match="never closed"):
        placeholders("{agent_id\n}")


def test_contract_needs_a_value():
    with pytest.raises(TemplateError, match=r"\{contract\} has no value"):
        render("Sign {contract}", agent())
    assert render("Sign {contract}", agent(), contract="C-7") == "Sign C-7"


def test_placeholders_in_first_use_order():
    assert placeholders("{role} {agent_id} {role}") == ["role", "agent_id"]
    assert placeholders("plain text") == []


def test_rendered_maps_spans_back_to_the_template():
    template = "Hi Agent-{agent_id}: TODO {{x}} TODO"
    rendered = render_mapped(template, {"agent_id": "Agent-3", "role": ""})
    assert rendered.text == "Hi Agent-3: TODO {x} TODO"
    first = rendered.text.index("TODO")
    second = rendered.text.rindex("TODO")
    assert rendered.source_span((first, first + 4)) == (template.index("TODO"), template.index("TODO") + 4)
    assert rendered.source_span((second, second + 4)) == (template.rindex("TODO"), len(template))
    slot = template.index("{agent_id}")
    assert rendered.source_span((3, 10)) == (slot, slot + len("{agent_id}"))


def test_files_user_template_hides_bundled_one(tmp_path):
    bundled = tmp_path / "bundled"
    user = tmp_path / "user"
    bundled.mkdir()
    (bundled / "onboarding.md").write_text("Welcome {agent_id}", encoding="utf-8")
    (bundled / "wrap-up.md").write_text("Wrap up {agent_id}", encoding="utf-8")
    saved = save_template("onboarding", "My welcome, {role}", user)
    save_template("status ping", "Status, please.", user)
    found = list_templates(user, bundled)
    assert [(t.name, t.bundled) for t in found] == [("wrap-up", True), ("onboarding", False),
                                                    ("status ping", False)]
    assert saved == TemplateInfo("onboarding", user / "onboarding.md", False)
    assert load_template(found[1]) == "My welcome, {role}"
    assert found[1].label == "onboarding (yours)"


def test_save_refuses_a_template_that_does_not_parse(tmp_path):
    with pytest.raises(TemplateError):
        save_template("bad", "Hi {nope}", tmp_path)
    assert not (tmp_path / "bad.md").exists()


@pytest.mark.parametrize("name", ["", "../x", ".hidden", "a/b", "x" * 65, "ends."])
def test_bad_template_names(name):
    with pytest.raises(ValueError):
        check_template_name(name)


def test_bundled_templates_render_for_every_agent():
    found = {t.name: t for t in list_templates()}
    assert {"onboarding", "wrap-up"} <= set(found)
    for name in ("onboarding", "wrap-up"):
        text = render(load_template(found[name]), agent())
        assert "Agent-3" in text and "{" not in text


def test_user_templates_live_in_the_config_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("QUARTERDECK_CONFIG_DIR", str(tmp_path))
    assert user_templates_dir() == tmp_path / "templates"
    save_template("mine", "Hello {agent_id}")
    assert (tmp_path / "templates" / "mine.md").read_text(encoding="utf-8") == "Hello {agent_id}\n"
    assert load_template(tmp_path / "templates" / "mine.md") == "Hello {agent_id}"


def test_suggested_fields():
    assert suggested_fields("onboarding") == ("onboarding", ("onboarding",))
    assert suggested_fields("Wrap-up") == (None, ("wrapup",))
    assert suggested_fields("ping") == (None, ())
