"""Claiming is atomic: when agents race for the same open contract, exactly one wins and every
other gets a ClaimConflict naming the winner, across threads and across processes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from quarterdeck.core.contracts import ClaimConflict, ContractState, ContractStore
from quarterdeck.core.store import default_db_path

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path):
    with ContractStore(default_db_path(tmp_path)) as s:
        yield s


def test_two_threads_claiming_one_contract(store):
    for _ in range(25):  # many rounds: a lost race would show up as two winners in one of them
        contract = store.create("race me")
        go = threading.Barrier(2)
        results: dict[str, object] = {}

        def claim(agent: str, contract_id: int = contract.id, go: threading.Barrier = go,
                  results: dict = results) -> None:
            go.wait()
            try:
                results[agent] = store.claim(contract_id, agent)
            except ClaimConflict as exc:
                results[agent] = exc

        threads = [threading.Thread(target=claim, args=(agent,)) for agent in ("Agent-1", "Agent-2")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [a for a, r in results.items() if not isinstance(r, Exception)]
        assert len(winners) == 1, results
        (loser,) = set(results) - set(winners)
        assert str(results[loser]) == f"contract #{contract.id} is already claimed by {winners[0]}"
        final = store.get(contract.id)
        assert final.state == ContractState.CLAIMED and final.assignee == winners[0]


CLAIMER = """
import json, sys
from pathlib import Path
from quarterdeck.core.contracts import ClaimConflict, ContractStore
store = ContractStore(Path(sys.argv[1]))
agent = sys.argv[2]
store.list()  # open the file before the start signal, so the race is about claiming
print("ready", flush=True)
sys.stdin.readline()
won, lost = [], {}
for contract in store.list(state="open"):
    try:
        store.claim(contract.id, agent)
        won.append(contract.id)
    except ClaimConflict as exc:
        lost[contract.id] = str(exc)
store.close()
print(json.dumps({"won": won, "lost": lost}), flush=True)
"""


def test_processes_claiming_the_same_contracts(store):
    ids = [store.create(f"task {n}").id for n in range(40)]
    agents = [f"Agent-{n}" for n in range(1, 5)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", CLAIMER, str(store.path), agent], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env) for agent in agents]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = dict(zip(agents, (json.loads(p.communicate(timeout=120)[0]) for p in procs), strict=True))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert all(p.returncode == 0 for p in procs)
    won = [i for r in results.values() for i in r["won"]]
    assert sorted(won) == ids, "a contract was claimed twice, or not at all"
    for agent, result in results.items():
        for contract_id, text in result["lost"].items():
            holder = store.get(int(contract_id)).assignee
            assert holder != agent and text == f"contract #{contract_id} is already claimed by {holder}"
    for contract in store.list():
        assert contract.state == ContractState.CLAIMED
        assert contract.id in results[contract.assignee]["won"]
