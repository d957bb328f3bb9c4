"""Sanction reports, oversight figures and the audit of look-ups, through HTTP."""

from __future__ import annotations

import json

from sqlalchemy import text

from gateway.audit.subjects import SubjectCipher
from tests.conftest import Gateway
from tests.credit_list_support import (
    CHANGES,
    PUBLISHED_ON,
    REMOVE,
    SANCTION,
    STATUS,
    SUMMARY,
    bad_check_digit,
    days_from,
    list_actors,
    resident_id,
    today,
)


def _sanction(entry: str, measure: str = "REFUSE_LOAN", on: str | None = None) -> dict[str, str]:
    return {"entry": entry, "measure": measure, "on": on or today(), "outcome": "APPLIED"}


async def test_agency_reports_sanctions_and_oversight_sees_them(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    entry = await actors.publish(resident_id(1), "(2024)豫0823执1号")
    subjects = {"subjects": [{"residentId": resident_id(1)}, {"residentId": resident_id(2)}]}
    await actors.ok(actors.bank, STATUS, subjects)
    await actors.ok(actors.bank, STATUS, subjects)
    await actors.ok(actors.tax, STATUS, {"subjects": [{"residentId": resident_id(1)}]})
    report = (await actors.ok(actors.bank, SANCTION, _sanction(entry["id"])))["reportSanction"]
    assert report["agencyId"] == "bank-icbc"
    assert (report["measure"], report["outcome"]) == ("REFUSE_LOAN", "APPLIED")
    await actors.ok(actors.bank, SANCTION, _sanction(entry["id"], "REFUSE_CREDIT_CARD"))
    await actors.ok(actors.bank, SANCTION, _sanction(entry["id"]))
    await actors.ok(actors.tax, SANCTION, _sanction(entry["id"], "REFUSE_SUBSIDY"))

    period = {"from": "2024-01-01", "to": today()}
    summary = (await actors.ok(actors.oversight, SUMMARY, period))["sanctionSummary"]
    assert summary["from"] == "2024-01-01"
    assert summary["agencies"] == [
        {
            "agencyId": "bank-icbc",
            "lookupRequests": 2,
            "subjectsLookedUp": 4,
            "sanctionsReported": 3,
            "measures": [
                {"measure": "REFUSE_CREDIT_CARD", "sanctions": 1},
                {"measure": "REFUSE_LOAN", "sanctions": 2},
            ],
        },
        {
            "agencyId": "tax-jiaozuo",
            "lookupRequests": 1,
            "subjectsLookedUp": 1,
            "sanctionsReported": 1,
            "measures": [{"measure": "REFUSE_SUBSIDY", "sanctions": 1}],
        },
    ]
    earlier = {"from": "2020-01-01", "to": "2020-12-31"}
    assert (await actors.ok(actors.oversight, SUMMARY, earlier))["sanctionSummary"][
        "agencies"
    ] == []
    response = await gateway.graphql(actors.bank, SUMMARY, period)
    assert response.status_code == 403


async def test_sanctions_refused_for_removed_unknown_or_misdated_entries(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    entry = await actors.publish(resident_id(1), "(2024)豫0823执1号")
    await actors.ok(actors.admin, REMOVE, {"id": entry["id"], "reason": "全部履行"})
    [error] = await actors.errors(actors.bank, SANCTION, _sanction(entry["id"]))
    assert error["extensions"] == {"code": "ENTRY_REMOVED", "entry": entry["id"]}
    for unknown in ("999", "not-an-id"):
        [error] = await actors.errors(actors.bank, SANCTION, _sanction(unknown))
        assert error["extensions"]["code"] == "NOT_FOUND"
    listed = await actors.publish(resident_id(2), "(2024)豫0823执2号")
    [error] = await actors.errors(
        actors.bank, SANCTION, _sanction(listed["id"], on=days_from(PUBLISHED_ON, -1))
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "appliedOn"}
    period = {"from": "2024-01-01", "to": today()}
    summary = (await actors.ok(actors.oversight, SUMMARY, period))["sanctionSummary"]
    assert summary["agencies"] == []


async def test_lookups_and_feed_reads_are_audited_as_blind_indexes(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    await actors.publish(resident_id(1), "(2024)豫0823执1号")
    subjects = {
        "subjects": [
            {"residentId": resident_id(1)},
            {"residentId": bad_check_digit(resident_id(2))},
        ]
    }
    status = (await gateway.graphql(actors.bank, STATUS, subjects)).json()
    feed = (await gateway.graphql(actors.bank, CHANGES, {"first": 10})).json()
    cipher = SubjectCipher(
        gateway.services.keys.blind_index_key, gateway.services.keys.subject_encryption_key
    )
    with gateway.services.engine.connect() as connection:
        for body, operation in ((status, "dishonestStatus"), (feed, "dishonestListChanges")):
            index = body["extensions"]["audit"]["index"]
            raw = connection.execute(
                text("SELECT entry FROM audit_events WHERE idx = :i"), {"i": index}
            ).scalar_one()
            assert resident_id(1).encode() not in raw
            event = json.loads(raw)
            assert event["operation"]["kind"] == operation
            assert [s["blindIndex"] for s in event["subjects"]] == [
                cipher.blind_index(resident_id(1))
            ]
        codes = json.loads(
            connection.execute(
                text("SELECT entry FROM audit_events WHERE idx = :i"),
                {"i": status["extensions"]["audit"]["index"]},
            ).scalar_one()
        )
    assert "BAD_USER_INPUT" in json.dumps(codes)


REPORT = """
mutation($entry: ID!, $measure: SanctionMeasure!, $on: Date!, $outcome: SanctionOutcome!,
         $detail: String) {
  reportSanction(entry: $entry, measure: $measure, appliedOn: $on, outcome: $outcome,
                 measureDetail: $detail) {
    id measure measureDetail outcome appliedOn
  }
}"""


async def test_agencies_report_lifting_after_the_removal(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    entry = await actors.publish(resident_id(1), "(2024)豫0823执1号")
    applied_on = days_from(PUBLISHED_ON, 5)
    applied = {"entry": entry["id"], "measure": "RESTRICT_FLIGHTS", "on": applied_on}
    await actors.ok(actors.bank, REPORT, {**applied, "outcome": "APPLIED"})
    removed_on = days_from(PUBLISHED_ON, 30)
    await actors.ok(
        actors.admin, REMOVE, {"id": entry["id"], "reason": "全部履行", "on": removed_on}
    )
    # After the removal: lifting is reported; applying again is refused.
    lifted = {**applied, "on": removed_on, "outcome": "LIFTED"}
    report = (await actors.ok(actors.bank, REPORT, lifted))["reportSanction"]
    assert (report["outcome"], report["appliedOn"]) == ("LIFTED", removed_on)
    [error] = await actors.errors(
        actors.bank, REPORT, {**applied, "on": removed_on, "outcome": "APPLIED"}
    )
    assert error["extensions"]["code"] == "ENTRY_REMOVED"
    # A late report of a measure applied while the entry was in force is accepted.
    late = {**applied, "measure": "RESTRICT_HOLIDAYS", "on": days_from(PUBLISHED_ON, 29)}
    await actors.ok(actors.bank, REPORT, {**late, "outcome": "APPLIED"})
    period = {"from": "2000-01-01", "to": today()}
    query = SUMMARY.replace(
        "measures { measure sanctions }", "measures { measure sanctions applied notApplied lifted }"
    )
    [bank] = (await actors.ok(actors.oversight, query, period))["sanctionSummary"]["agencies"]
    assert bank["measures"] == [
        {"measure": "RESTRICT_FLIGHTS", "sanctions": 2, "applied": 1, "notApplied": 0, "lifted": 1},
        {
            "measure": "RESTRICT_HOLIDAYS",
            "sanctions": 1,
            "applied": 1,
            "notApplied": 0,
            "lifted": 0,
        },
    ]


async def test_the_opinions_measures_and_other_with_its_description(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    entry = await actors.publish(resident_id(1), "(2024)豫0823执1号")
    base = {"entry": entry["id"], "on": today(), "outcome": "APPLIED"}
    for measure in (
        "RESTRICT_LAND_USE_RIGHTS",
        "RESTRICT_NIGHTCLUBS_GOLF",
        "BAR_FROM_PUBLIC_INSTITUTION",
        "REFUSE_HONORS",
        "RESTRICT_COMPANY_REGISTRATION",
        "RESTRICT_FINANCIAL_QUALIFICATION",
    ):
        report = (await actors.ok(actors.tax, REPORT, {**base, "measure": measure}))[
            "reportSanction"
        ]
        assert report["measure"] == measure
    [error] = await actors.errors(actors.tax, REPORT, {**base, "measure": "OTHER"})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "measureDetail"}
    other = {**base, "measure": "OTHER", "detail": "暂停出口退税资格"}
    report = (await actors.ok(actors.tax, REPORT, other))["reportSanction"]
    assert (report["measure"], report["measureDetail"]) == ("OTHER", "暂停出口退税资格")
