"""Associated persons and identity corrections of the dishonest list, through HTTP."""

from __future__ import annotations

from typing import Any

from tests.conftest import Gateway
from tests.credit_list_support import (
    ASSOCIATED_STATUS,
    CHANGES,
    CORRECT,
    PUBLIC,
    PUBLISH,
    STATUS,
    ListActors,
    bad_check_digit,
    entry_input,
    list_actors,
    resident_id,
)

CASE = "(2024)豫0823执9号"
USCC = "91410800MA44TB0F3K"
COMPANY = "焦作市某某建筑工程有限公司"


def _company(*people: tuple[str, str, str], **changes: Any) -> dict[str, Any]:
    return entry_input(
        "",
        CASE,
        subject={"creditCode": USCC, "name": COMPANY},
        circumstance="EVADES_ENFORCEMENT",
        associates=[{"role": r, "residentId": i, "name": n} for r, i, n in people],
        **changes,
    )


REPRESENTATIVE = ("LEGAL_REPRESENTATIVE", resident_id(5), "王强")
CONTROLLER = ("ACTUAL_CONTROLLER", resident_id(6), "赵敏")


async def _status(actors: ListActors, *numbers: str) -> list[Any]:
    subjects = {"subjects": [{"residentId": number} for number in numbers]}
    data = await actors.ok(actors.bank, ASSOCIATED_STATUS, subjects)
    result: list[Any] = data["dishonestStatus"]
    return result


async def test_a_listed_companys_people_are_found_by_their_own_id(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    data = await actors.ok(actors.admin, PUBLISH, {"entry": _company(REPRESENTATIVE, CONTROLLER)})
    entry = data["publishDishonestEntry"]
    # The legal representative's name comes from the associate when not given apart.
    assert entry["legalRepresentative"] == "王强"
    assert entry["associates"] == [
        {"role": "LEGAL_REPRESENTATIVE", "name": "王强", "idNumber": resident_id(5)},
        {"role": "ACTUAL_CONTROLLER", "name": "赵敏", "idNumber": resident_id(6)},
    ]
    representative, controller, stranger = await _status(
        actors, resident_id(5), resident_id(6), resident_id(7)
    )
    assert (representative["listed"], representative["restricted"]) == (False, True)
    assert representative["associatedEntries"] == [
        {
            "role": "LEGAL_REPRESENTATIVE",
            "entryId": entry["id"],
            "debtorName": COMPANY,
            "debtorCreditCode": USCC,
            "caseNumber": CASE,
            "courtName": "武陟县人民法院",
            "state": "PUBLISHED",
        }
    ]
    assert controller["associatedEntries"][0]["role"] == "ACTUAL_CONTROLLER"
    assert (stranger["restricted"], stranger["associatedEntries"]) == (False, [])
    # The feed carries the associates with their ID numbers, for agencies' own copies.
    feed = (await actors.ok(actors.bank, CHANGES, {"first": 10}))["dishonestListChanges"]
    assert feed["changes"][0]["entry"]["associates"] == entry["associates"]
    # The plain status query keeps its shape.
    plain = await actors.ok(actors.bank, STATUS, {"subjects": [{"residentId": resident_id(5)}]})
    assert plain["dishonestStatus"][0]["listed"] is False


async def test_associates_are_checked(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    cases = {
        "legal_representative": _company(REPRESENTATIVE, legalRepresentative="李四"),
        "associates.0.id_number": _company(
            ("PRINCIPAL_OFFICER", bad_check_digit(resident_id(5)), "王强")
        ),
        "associates": _company(REPRESENTATIVE, REPRESENTATIVE),
    }
    for field, entry in cases.items():
        [error] = await actors.errors(actors.admin, PUBLISH, {"entry": entry})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, field
    person = entry_input(
        resident_id(1),
        CASE,
        associates=[{"role": "ACTUAL_CONTROLLER", "residentId": resident_id(6), "name": "赵敏"}],
    )
    [error] = await actors.errors(actors.admin, PUBLISH, {"entry": person})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "associates"}


async def test_correcting_an_id_removes_the_wrong_identity_in_the_feed(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    wrong = await actors.publish(resident_id(1), CASE)
    cursor = (await actors.ok(actors.bank, CHANGES, {"first": 10}))["dishonestListChanges"][
        "endCursor"
    ]
    fix = {
        "id": wrong["id"],
        "entry": entry_input(resident_id(2), CASE),
        "reason": "身份证号码错误",
    }
    right = (await actors.ok(actors.admin, CORRECT, fix))["correctDishonestEntry"]
    assert right["id"] != wrong["id"]
    assert (right["idNumber"], right["state"]) == (resident_id(2), "PUBLISHED")

    page = (await actors.ok(actors.bank, CHANGES, {"after": cursor, "first": 10}))[
        "dishonestListChanges"
    ]
    removal, publication = page["changes"]
    # The removal names the wrong ID: an agency keyed by ID lifts its measures on that person.
    assert removal["kind"] == "REMOVED"
    assert removal["entry"]["idNumber"] == resident_id(1)
    assert removal["entry"]["removalKind"] == "IDENTITY_CORRECTED"
    assert removal["entry"]["replacedBy"] == right["id"]
    assert (publication["kind"], publication["entry"]["idNumber"]) == ("PUBLISHED", resident_id(2))
    # Replaying from the start shows the wrong ID as it was published, then removed.
    replay = (await actors.ok(actors.tax, CHANGES, {"first": 10}))["dishonestListChanges"]
    assert [(c["kind"], c["entry"]["idNumber"]) for c in replay["changes"]] == [
        ("PUBLISHED", resident_id(1)),
        ("REMOVED", resident_id(1)),
        ("PUBLISHED", resident_id(2)),
    ]
    status = await actors.ok(
        actors.bank,
        STATUS,
        {"subjects": [{"residentId": resident_id(1)}, {"residentId": resident_id(2)}]},
    )
    assert [s["listed"] for s in status["dishonestStatus"]] == [False, True]
    # A correction of anything else keeps the entry (and its id).
    again = {
        "id": right["id"],
        "entry": entry_input(resident_id(2), CASE, performance="PARTLY_PERFORMED"),
        "reason": "部分履行",
    }
    kept = (await actors.ok(actors.admin, CORRECT, again))["correctDishonestEntry"]
    assert (kept["id"], kept["state"]) == (right["id"], "CORRECTED")


async def test_correcting_an_associates_id_moves_the_restriction(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    data = await actors.ok(actors.admin, PUBLISH, {"entry": _company(REPRESENTATIVE, CONTROLLER)})
    entry = data["publishDishonestEntry"]
    fixed = ("ACTUAL_CONTROLLER", resident_id(7), "赵敏")
    variables = {
        "id": entry["id"],
        "entry": _company(REPRESENTATIVE, fixed),
        "reason": "实际控制人身份证号码错误",
    }
    replaced = (await actors.ok(actors.admin, CORRECT, variables))["correctDishonestEntry"]
    assert replaced["id"] != entry["id"]
    wrong, right, representative = await _status(
        actors, resident_id(6), resident_id(7), resident_id(5)
    )
    assert (wrong["restricted"], right["restricted"]) == (False, True)
    assert [a["entryId"] for a in representative["associatedEntries"]] == [replaced["id"]]
    feed = (await actors.ok(actors.bank, CHANGES, {"first": 10}))["dishonestListChanges"]
    removal = feed["changes"][1]["entry"]
    assert removal["removalKind"] == "IDENTITY_CORRECTED"
    assert [a["idNumber"] for a in removal["associates"]] == [resident_id(5), resident_id(6)]


async def test_public_list_shows_codes_in_full_and_hides_birth_month_and_day(
    gateway: Gateway,
) -> None:
    actors = await list_actors(gateway)
    await actors.ok(actors.admin, PUBLISH, {"entry": _company(REPRESENTATIVE)})
    await actors.publish(resident_id(1), "(2024)豫0823执1号")
    page = (await actors.ok(actors.public, PUBLIC, {"first": 10}))["publicDishonestList"]
    company, person = page["entries"]
    assert company["idNumberMasked"] == USCC  # art. 6: the code is published in full
    number = resident_id(1)
    assert person["idNumberMasked"] == f"{number[:10]}****{number[14:]}"
    # The public type carries no associates' ID numbers at all.
    response = await gateway.graphql(
        actors.public, "{ publicDishonestList { entries { associates { idNumber } } } }"
    )
    assert response.status_code == 400
