"""The node's shared answer store: where answers go, what it refuses, and its bound."""

from __future__ import annotations

import pytest

from warehouse.marts import SharedAnswers
from warehouse.publish.layout import answers_dir

BUILD = "20261126T070001856544Z-979fea"


def test_an_answer_is_stored_under_its_build_and_tenant(tmp_path):
    store = SharedAnswers(tmp_path, 8)
    assert store.read(BUILD, 3, "q") is None
    with store.claim(BUILD, 3, "q") as slot:
        assert slot.answer is None
        slot.store(b'{"a":1}')
    assert store.read(BUILD, 3, "q") == b'{"a":1}'
    assert store.read(BUILD, 4, "q") is None
    [stored] = answers_dir(tmp_path).rglob("*.json")
    assert stored.parent.relative_to(answers_dir(tmp_path)).parts == (BUILD, "3")


def test_a_claim_sees_what_was_stored_before_it(tmp_path):
    store = SharedAnswers(tmp_path, 8)
    with store.claim(BUILD, 1, "q") as slot:
        slot.store(b"1")
    with store.claim(BUILD, 1, "q") as slot:
        assert slot.answer == b"1"


@pytest.mark.parametrize("build_id", ["../../etc", "CURRENT", ""])
def test_a_build_id_that_is_not_one_is_refused(tmp_path, build_id):
    with pytest.raises(ValueError):
        SharedAnswers(tmp_path, 8).read(build_id, 1, "q")


@pytest.mark.parametrize("tenant_id", ["1", -1, True, 1.0])
def test_a_tenant_id_that_is_not_one_is_refused(tmp_path, tenant_id):
    with pytest.raises(TypeError):
        SharedAnswers(tmp_path, 8).read(BUILD, tenant_id, "q")


def test_past_the_bound_new_answers_are_not_stored_but_stored_ones_are_replaced(tmp_path):
    store = SharedAnswers(tmp_path, 2)
    for query in ("a", "b", "c"):
        with store.claim(BUILD, 1, query) as slot:
            slot.store(query.encode())
    assert [store.read(BUILD, 1, q) for q in "abc"] == [b"a", b"b", None]
    with store.claim(BUILD, 1, "a") as slot:  # e.g. a damaged answer written again
        slot.store(b"A")
    assert store.read(BUILD, 1, "a") == b"A"
    assert store.read(BUILD, 2, "c") is None
    with store.claim(BUILD, 2, "c") as slot:  # the bound is per tenant
        slot.store(b"c")
    assert store.read(BUILD, 2, "c") == b"c"


def test_a_filesystem_without_locks_still_shares_answers(tmp_path, monkeypatch, caplog):
    def no_locks(*_args):
        raise OSError(37, "No locks available")

    monkeypatch.setattr("warehouse.marts.answers.fcntl.flock", no_locks)
    store = SharedAnswers(tmp_path, 8)
    with store.claim(BUILD, 1, "q") as slot:
        slot.store(b"1")
    assert store.read(BUILD, 1, "q") == b"1"
    assert "answers not locked" in caplog.text
