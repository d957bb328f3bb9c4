"""Agency side of the dishonest list, through HTTP: bulk look-up, change feed, public list."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text

from tests.conftest import Gateway
from tests.credit_list_support import (
    CHANGES,
    CORRECT,
    PUBLIC,
    PUBLISH,
    REMOVE,
    STATUS,
    ListActors,
    bad_check_digit,
    entry_input,
    list_actors,
    resident_id,
)


async def test_batch_mixes_listed_unlisted_and_invalid(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    await actors.publish(resident_id(1), "(2024)豫0823执1号")
    await actors.publish(resident_id(1), "(2024)豫0823执2号")
    subjects = [
        {"residentId": resident_id(1), "name": "张伟"},
        {"residentId": bad_check_digit(resident_id(2))},
        {"residentId": resident_id(3)},
        {"residentId": resident_id(4), "creditCode": "91410800MA44TB0F3K"},
        {"creditCode": "91410800MA44TB0F3A"},
    ]
    response = await gateway.graphql(actors.bank, STATUS, {"subjects": subjects})
    assert response.status_code == 200
    body = response.json()
    results = body["data"]["dishonestStatus"]
    assert results[0]["listed"] is True
    assert [e["caseNumber"] for e in results[0]["entries"]] == [
        "(2024)豫0823执1号",
        "(2024)豫0823执2号",
    ]
    assert results[0]["entries"][0]["courtName"] == "武陟县人民法院"
    assert results[2] == {
        "subject": {"idType": "resident_id", "idNumber": resident_id(3), "name": None},
        "listed": False,
        "entries": [],
    }
    assert results[1] is None
    assert results[3] is None
    assert results[4] is None
    errors = {tuple(e["path"]): e["extensions"] for e in body["errors"]}
    assert errors == {
        ("dishonestStatus", 1): {"code": "BAD_USER_INPUT", "field": "subjects.1.residentId"},
        ("dishonestStatus", 3): {"code": "BAD_USER_INPUT", "field": "subjects.3"},
        ("dishonestStatus", 4): {"code": "BAD_USER_INPUT", "field": "subjects.4.creditCode"},
    }


async def test_more_than_1000_subjects_refused_with_the_limit(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    subjects = [
        {"residentId": resident_id(n % 500, born=f"19{60 + n // 500}0101")} for n in range(1001)
    ]
    [error] = await actors.errors(actors.bank, STATUS, {"subjects": subjects})
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": 1000}
    assert "1000" in error["message"]
    data = await actors.ok(actors.bank, STATUS, {"subjects": subjects[:1000]})
    assert len(data["dishonestStatus"]) == 1000


async def test_lookups_are_indexed(gateway: Gateway) -> None:
    # The store repeats the partial index's predicate with the same literal (see store.py).
    query = (
        "SELECT id FROM credit_list_entries WHERE subject_index IN ('a', 'b') "
        "AND credit_list_entries.state != 'removed'"
    )
    with gateway.services.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            rows = connection.execute(text(f"EXPLAIN QUERY PLAN {query}"))
        else:
            connection.execute(text("SET enable_seqscan = off"))
            rows = connection.execute(text(f"EXPLAIN {query}"))
        plan = " ".join(str(row[-1]) for row in rows)
    assert "uq_credit_list_entries_active" in plan, plan


async def _follow(
    actors: ListActors, token: str, after: str | None, first: int
) -> tuple[list[Any], str | None]:
    """Read the feed from ``after`` to its end, ``first`` at a time."""
    changes: list[Any] = []
    for _ in range(100):
        page = (await actors.ok(token, CHANGES, {"after": after, "first": first}))[
            "dishonestListChanges"
        ]
        changes += page["changes"]
        after = page["endCursor"]
        if not page["hasNextPage"]:
            return changes, after
    raise AssertionError("the feed did not end")


def _apply(copy: dict[str, Any], changes: list[Any]) -> None:
    """An agency's local copy: in force entries by id."""
    for change in changes:
        entry = change["entry"]
        if change["kind"] == "REMOVED":
            copy.pop(entry["id"], None)
        else:
            copy[entry["id"]] = entry


async def test_agency_copy_converges_including_removals(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    first = await actors.publish(resident_id(1), "(2024)豫0823执1号")
    second = await actors.publish(resident_id(2), "(2024)豫0823执2号")
    copy: dict[str, Any] = {}
    changes, cursor = await _follow(actors, actors.bank, None, 1)
    _apply(copy, changes)
    assert [c["cursor"] for c in changes] == ["1", "2"]
    assert cursor == "2"
    assert set(copy) == {first["id"], second["id"]}
    assert copy[first["id"]]["idNumber"] == resident_id(1)

    # Nothing new: the cursor stays.
    again, same = await _follow(actors, actors.bank, cursor, 10)
    assert again == []
    assert same == cursor

    await actors.ok(actors.admin, REMOVE, {"id": first["id"], "reason": "全部履行"})
    fix = {
        "id": second["id"],
        "entry": entry_input(resident_id(2), "(2024)豫0823执2号", age=50),
        "reason": "年龄",
    }
    await actors.ok(actors.admin, CORRECT, fix)
    third = await actors.publish(resident_id(3), "(2024)豫0823执3号")
    changes, cursor = await _follow(actors, actors.bank, cursor, 2)
    assert [(c["cursor"], c["kind"]) for c in changes] == [
        ("3", "REMOVED"),
        ("4", "CORRECTED"),
        ("5", "PUBLISHED"),
    ]
    _apply(copy, changes)
    # The removed debtor is gone from the bank's copy: it must stop punishing them.
    assert set(copy) == {second["id"], third["id"]}
    assert copy[second["id"]]["age"] == 50

    # A second agency starting from scratch reaches the same copy.
    fresh: dict[str, Any] = {}
    _apply(fresh, (await _follow(actors, actors.tax, None, 1000))[0])
    assert fresh == copy


async def test_feed_cursor_and_page_size_checked(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    for variables in (
        {"after": "abc", "first": 10},
        {"after": None, "first": 0},
        {"after": None, "first": 1001},
    ):
        [error] = await actors.errors(actors.bank, CHANGES, variables)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_feed_sequence_is_gapless(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    for n in range(5):
        await actors.publish(resident_id(n), f"(2024)豫0823执{n}号")
    with gateway.services.engine.connect() as connection:
        seqs = list(
            connection.execute(text("SELECT seq FROM credit_list_changes ORDER BY seq")).scalars()
        )
    assert seqs == [1, 2, 3, 4, 5]


async def test_public_list_masks_ids_and_hides_removed(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    kept = await actors.publish(resident_id(1), "(2024)豫0823执1号")
    gone = await actors.publish(
        resident_id(2), "(2024)豫0823执2号", subject={"residentId": resident_id(2), "name": "李娜"}
    )
    await actors.ok(actors.admin, REMOVE, {"id": gone["id"], "reason": "全部履行"})
    other = await actors.ok(
        actors.other_admin, PUBLISH, {"entry": entry_input(resident_id(3), "(2024)豫0802执3号")}
    )
    data = await actors.ok(actors.public, PUBLIC, {"first": 10})
    page = data["publicDishonestList"]
    assert [e["id"] for e in page["entries"]] == [kept["id"], other["publishDishonestEntry"]["id"]]
    # The provisions' form: region and year of birth shown, month and day hidden.
    assert (
        page["entries"][0]["idNumberMasked"] == resident_id(1)[:10] + "****" + resident_id(1)[-4:]
    )
    assert not page["hasNextPage"]
    by_court = await actors.ok(actors.public, PUBLIC, {"first": 10, "court": "court-jiefang"})
    assert [e["caseNumber"] for e in by_court["publicDishonestList"]["entries"]] == [
        "(2024)豫0802执3号"
    ]
    by_name = await actors.ok(actors.public, PUBLIC, {"first": 10, "name": "李娜"})
    assert by_name["publicDishonestList"]["entries"] == []
    # Paging: one at a time reaches both.
    one = (await actors.ok(actors.public, PUBLIC, {"first": 1}))["publicDishonestList"]
    assert one["hasNextPage"]
    two = (await actors.ok(actors.public, PUBLIC, {"first": 1, "after": one["endCursor"]}))[
        "publicDishonestList"
    ]
    assert [e["id"] for e in two["entries"]] == [other["publishDishonestEntry"]["id"]]
    # The public type has no full ID number at all.
    response = await gateway.graphql(
        actors.public, "{ publicDishonestList { entries { idNumber } } }"
    )
    assert response.status_code == 400


async def test_concurrent_publications_keep_the_feed_gapless(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    await asyncio.gather(
        *(actors.publish(resident_id(n), f"(2024)豫0823执{n}号") for n in range(1, 21))
    )
    changes, cursor = await _follow(actors, actors.bank, None, 7)
    assert [int(change["cursor"]) for change in changes] == list(range(1, 21))
    assert cursor == "20"
