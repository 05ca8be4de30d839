"""Whether an inbox agent can be reached agrees with what its delivery does: a missing folder under
a folder that exists is made by the first delivery, so it is no problem; one whose parent is
missing, or a file where the folder should be, is."""
from __future__ import annotations

from quarterdeck.core.models import Agent, InboxTransport
from quarterdeck.core.roster.check import agent_problems, inbox_problem
from quarterdeck.core.transports.inbox import InboxDelivery


def test_a_missing_folder_the_delivery_makes_is_reachable_and_the_delivery_makes_it(tmp_path):
    folder = tmp_path / "inbox" / "agent-3"
    (tmp_path / "inbox").mkdir()
    agent = Agent(id="Agent-3", transport=InboxTransport(path=folder))
    assert agent_problems(agent, []) == []
    InboxDelivery(folder).ensure_folder()  # what the first delivery does before it writes
    assert folder.is_dir() and inbox_problem(folder) is None


def test_a_missing_parent_or_a_file_in_the_way_is_a_problem(tmp_path):
    deep = tmp_path / "gone" / "agent-3"
    assert inbox_problem(deep) == f"inbox folder {deep} is missing and so is its parent folder {tmp_path / 'gone'}"
    blocked = tmp_path / "agent-4"
    blocked.write_text("not a folder", encoding="utf-8")
    assert inbox_problem(blocked) == f"inbox {blocked} exists but is not a folder"
    assert agent_problems(Agent(id="A", transport=InboxTransport(path=blocked)), []) == [
        f"inbox {blocked} exists but is not a folder"]


def test_a_link_to_nothing_where_the_folder_should_be_is_a_problem(tmp_path):
    link = tmp_path / "agent-5"
    link.symlink_to(tmp_path / "nowhere")
    assert inbox_problem(link) == f"inbox {link} exists but is not a folder"
