"""Listing terms (art. 2), minors (art. 4), removal kinds and expiry (art. 10), through HTTP."""

from __future__ import annotations

import asyncio
import datetime
import json
from typing import Any

import httpx
from sqlalchemy import text

from gateway.app import create_app
from gateway.credit_list.terms import add_years
from gateway.services import build_services
from tests.conftest import PUBLIC_URL, Gateway
from tests.credit_list_support import (
    CHANGES,
    EXTEND,
    PUBLISH,
    PUBLISHED_ON,
    REMOVE,
    STATUS,
    ListActors,
    days_from,
    entry_input,
    list_actors,
    resident_id,
    today,
)

CASE = "(2024)豫0823执1号"


async def test_minors_are_refused_and_adults_listed(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    child = resident_id(1, born="20150601")
    [error] = await actors.errors(actors.admin, PUBLISH, {"entry": entry_input(child, CASE)})
    assert error["extensions"] == {"code": "MINOR_DEBTOR", "field": "subject"}
    # Eighteen the day after publication: still a minor when published.
    eighteen = add_years(PUBLISHED_ON, -18)
    almost = resident_id(2, born=f"{eighteen + datetime.timedelta(days=1):%Y%m%d}")
    [error] = await actors.errors(actors.admin, PUBLISH, {"entry": entry_input(almost, CASE)})
    assert error["extensions"]["code"] == "MINOR_DEBTOR"
    adult = await actors.publish(resident_id(3, born=f"{eighteen:%Y%m%d}"), CASE)
    assert adult["age"] == 18
    data = await actors.ok(actors.bank, STATUS, {"subjects": [{"residentId": child}]})
    assert data["dishonestStatus"][0]["listed"] is False


async def test_terms_follow_the_circumstances(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    # Circumstance (1) lasts until performed: no term.
    refuses = await actors.publish(resident_id(1), CASE)
    assert (refuses["termYears"], refuses["expiresOn"], refuses["removalDueOn"]) == (None,) * 3
    # (2)-(6): two years from publication; removal due three working days later.
    evades = await actors.publish(
        resident_id(2), "(2024)豫0823执2号", circumstance="VIOLATES_PROPERTY_REPORTING"
    )
    expiry = add_years(PUBLISHED_ON, 2)
    assert (evades["termYears"], evades["expiresOn"]) == (2, expiry.isoformat())
    due = datetime.date.fromisoformat(evades["removalDueOn"])
    assert due.weekday() < 5
    workdays = [expiry + datetime.timedelta(days=n) for n in range(1, (due - expiry).days + 1)]
    assert sum(day.weekday() < 5 for day in workdays) == 3
    # Several circumstances on one entry, in statutory order; (1) among them: no term.
    several = await actors.publish(
        resident_id(3),
        "(2024)豫0823执3号",
        circumstance=None,
        circumstances=["VIOLATES_CONSUMPTION_RESTRICTION", "REFUSES_DESPITE_ABILITY"],
    )
    assert several["circumstances"] == [
        "REFUSES_DESPITE_ABILITY",
        "VIOLATES_CONSUMPTION_RESTRICTION",
    ]
    assert several["circumstance"] == "REFUSES_DESPITE_ABILITY"
    assert several["termYears"] is None
    # An entry whose term is already over is not published.
    late = entry_input(
        resident_id(4),
        "(2024)豫0823执4号",
        circumstance="BREACHES_SETTLEMENT",
        filedOn="2020-01-01",
        publishedOn=add_years(datetime.date.fromisoformat(today()), -2).isoformat(),
    )
    [error] = await actors.errors(actors.admin, PUBLISH, {"entry": late})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "published_on"}


async def test_extension_needs_a_ground_and_stops_at_three_years(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    entry = await actors.publish(
        resident_id(1),
        CASE,
        circumstance=None,
        circumstances=["OBSTRUCTS_ENFORCEMENT", "EVADES_ENFORCEMENT"],
    )
    extended = (
        await actors.ok(actors.admin, EXTEND, {"id": entry["id"], "years": 2, "reason": "情节严重"})
    )["extendDishonestEntry"]
    assert (extended["state"], extended["extendedYears"]) == ("EXTENDED", 2)
    assert extended["expiresOn"] == add_years(PUBLISHED_ON, 4).isoformat()
    too_long = {"id": entry["id"], "years": 2, "reason": "再次延长"}
    [error] = await actors.errors(actors.admin, EXTEND, too_long)
    assert error["extensions"]["code"] == "NOT_EXTENDABLE"
    last = await actors.ok(actors.admin, EXTEND, {"id": entry["id"], "years": 1, "reason": "再延"})
    assert last["extendDishonestEntry"]["expiresOn"] == add_years(PUBLISHED_ON, 5).isoformat()
    [error] = await actors.errors(
        actors.admin, EXTEND, {"id": entry["id"], "years": 0, "reason": "x"}
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "years"}

    # One circumstance other than obstruction: no ground. Circumstance (1): no term.
    single = await actors.publish(
        resident_id(2), "(2024)豫0823执2号", circumstance="VIOLATES_PROPERTY_REPORTING"
    )
    no_term = await actors.publish(resident_id(3), "(2024)豫0823执3号")
    for target in (single, no_term):
        variables = {"id": target["id"], "years": 1, "reason": "x"}
        [error] = await actors.errors(actors.admin, EXTEND, variables)
        assert error["extensions"]["code"] == "NOT_EXTENDABLE"
    [error] = await actors.errors(
        actors.other_admin, EXTEND, {"id": entry["id"], "years": 1, "reason": "x"}
    )
    assert error["extensions"]["code"] == "FORBIDDEN"
    kinds = [
        c["kind"]
        for c in (await actors.ok(actors.bank, CHANGES, {"first": 100}))["dishonestListChanges"][
            "changes"
        ]
    ]
    assert kinds == ["PUBLISHED", "EXTENDED", "EXTENDED", "PUBLISHED", "PUBLISHED"]


async def test_removal_kinds_and_dates_are_checked(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    entry = await actors.publish(resident_id(1), CASE, circumstance="VIOLATES_PROPERTY_REPORTING")
    refusals = {
        "removedOn": [
            {"on": days_from(PUBLISHED_ON, -1)},
            {"on": days_from(datetime.date.fromisoformat(today()), 1)},
        ],
        "kind": [{"kind": "EXPIRED"}, {"kind": "IDENTITY_CORRECTED"}],
    }
    for field, variants in refusals.items():
        for variant in variants:
            variables = {"id": entry["id"], "reason": "x", **variant}
            [error] = await actors.errors(actors.admin, REMOVE, variables)
            assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, variant
    revoked_on = days_from(PUBLISHED_ON, 10)
    variables = {"id": entry["id"], "reason": "不应纳入", "kind": "REVOKED", "on": revoked_on}
    removed = (await actors.ok(actors.admin, REMOVE, variables))["removeDishonestEntry"]
    assert (removed["state"], removed["removalKind"]) == ("REMOVED", "REVOKED")
    assert removed["stateChangedOn"] == revoked_on
    # The feed tells revocation from deletion by kind, not by free text.
    changes = (await actors.ok(actors.bank, CHANGES, {"first": 10}))["dishonestListChanges"]
    assert changes["changes"][-1]["entry"]["removalKind"] == "REVOKED"
    # A removal kind is required.
    response = await gateway.graphql(
        actors.admin,
        'mutation($id: ID!) { removeDishonestEntry(id: $id, reason: "x") { id } }',
        {"id": entry["id"]},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def _expiry_events(gateway: Gateway) -> list[dict[str, Any]]:
    with gateway.services.engine.connect() as connection:
        rows = connection.execute(text("SELECT entry FROM audit_events ORDER BY idx")).scalars()
        events = [json.loads(row) for row in rows]
    return [e for e in events if e["operation"]["kind"] == "dishonestEntryExpired"]


async def _publish_expiring(actors: ListActors) -> tuple[dict[str, Any], dict[str, Any]]:
    expiring = await actors.publish(
        resident_id(1), CASE, circumstance="VIOLATES_CONSUMPTION_RESTRICTION"
    )
    lasting = await actors.publish(resident_id(2), "(2024)豫0823执2号")
    return expiring, lasting


async def test_an_expired_entry_leaves_the_list_with_feed_and_audit_events(
    gateway: Gateway,
) -> None:
    actors = await list_actors(gateway)
    expiring, lasting = await _publish_expiring(actors)
    sweeper = gateway.services.list_expiry
    credit_list = gateway.services.credit_list
    assert sweeper is not None
    assert credit_list is not None
    assert await sweeper.sweep() == []  # nothing has expired yet
    expiry = datetime.date.fromisoformat(expiring["expiresOn"])
    credit_list.today = lambda: expiry
    assert await sweeper.sweep() == [int(expiring["id"])]
    assert await sweeper.sweep() == []  # idempotent

    feed = (await actors.ok(actors.bank, CHANGES, {"first": 10}))["dishonestListChanges"]
    kinds = [(c["kind"], c["entry"]["id"]) for c in feed["changes"]]
    assert kinds == [
        ("PUBLISHED", expiring["id"]),
        ("PUBLISHED", lasting["id"]),
        ("REMOVED", expiring["id"]),
    ]
    removal = feed["changes"][-1]["entry"]
    assert (removal["removalKind"], removal["stateChangedOn"]) == ("EXPIRED", expiry.isoformat())
    assert removal["idNumber"] == resident_id(1)
    status = await actors.ok(
        actors.bank,
        STATUS,
        {"subjects": [{"residentId": resident_id(1)}, {"residentId": resident_id(2)}]},
    )
    assert [s["listed"] for s in status["dishonestStatus"]] == [False, True]

    [event] = _expiry_events(gateway)
    assert event["principal"]["subject"] == "system:credit-list-expiry"
    assert event["authority"] == {"caseNumber": CASE, "courtId": "court-wuzhi", "document": None}
    assert event["outcome"] == "ok"
    cipher = gateway.services.audit.cipher if gateway.services.audit else None
    assert cipher is not None
    assert [s["blindIndex"] for s in event["subjects"]] == [cipher.blind_index(resident_id(1))]


async def test_sweep_runs_at_start_up_and_once_across_gateways(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    expiring, _ = await _publish_expiring(actors)
    expiry = datetime.date.fromisoformat(expiring["expiresOn"])

    # Two more gateways on the same database sweep at once: one removal, one audit event.
    others = [build_services(gateway.settings) for _ in range(2)]
    for services in others:
        assert services.credit_list is not None
        services.credit_list.today = lambda: expiry
    sweeps = [services.list_expiry.sweep() for services in others if services.list_expiry]
    removed = await asyncio.gather(*sweeps)
    assert sorted(entry for ids in removed for entry in ids) == [int(expiring["id"])]
    for services in others:
        if services.audit:
            await services.audit.stop()
        services.engine.dispose()
    assert len(_expiry_events(gateway)) == 1
    feed = (await actors.ok(actors.bank, CHANGES, {"first": 10}))["dishonestListChanges"]
    assert [c["kind"] for c in feed["changes"]].count("REMOVED") == 1

    # A gateway starting after an expiry removes the entry before it serves anything.
    later = await actors.publish(
        resident_id(3), "(2024)豫0823执3号", circumstance="BREACHES_SETTLEMENT"
    )
    services = build_services(gateway.settings)
    assert services.credit_list is not None
    services.credit_list.today = lambda: expiry
    app = create_app(gateway.settings, services)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as http,
    ):
        response = await http.post(
            "/graphql",
            json={"query": CHANGES, "variables": {"first": 10, "after": "4"}},
            headers={"Authorization": f"Bearer {actors.bank}"},
        )
        [change] = response.json()["data"]["dishonestListChanges"]["changes"]
        assert (change["kind"], change["entry"]["id"]) == ("REMOVED", later["id"])
        assert change["entry"]["removalKind"] == "EXPIRED"
