"""Court side of the dishonest list, through HTTP: publish, correct, remove, and refusals."""

from __future__ import annotations

import datetime

from tests.conftest import Gateway
from tests.credit_list_support import (
    CORRECT,
    PUBLISH,
    PUBLISHED_ON,
    REMOVE,
    STATUS,
    age_on,
    bad_check_digit,
    days_from,
    entry_input,
    list_actors,
    resident_id,
)

CASE = "(2024)豫0823执1号"


async def test_publish_records_every_statutory_field(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    entry = await actors.publish(resident_id(1), CASE, performedPart="已履行5000元")
    assert entry["state"] == "PUBLISHED"
    assert entry["idNumber"] == resident_id(1)
    assert entry["courtId"] == "court-wuzhi"
    assert entry["courtName"] == "武陟县人民法院"
    # Sex and age come from the ID number when the court does not give them.
    age = age_on(PUBLISHED_ON, datetime.date(1980, 1, 1))
    assert (entry["sex"], entry["age"]) == ("MALE", age)
    assert entry["basisNumber"] == "(2023)豫0823民初100号"
    assert entry["circumstance"] == "REFUSES_DESPITE_ABILITY"
    assert entry["performedPart"] == "已履行5000元"


async def test_publish_organisation(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    organisation = entry_input(
        "",
        "(2024)豫0823执2号",
        subject={"creditCode": "91410800MA44TB0F3K", "name": "焦作市某某建筑工程有限公司"},
        legalRepresentative="王强",
        circumstance="EVADES_ENFORCEMENT",
    )
    data = await actors.ok(actors.admin, PUBLISH, {"entry": organisation})
    entry = data["publishDishonestEntry"]
    assert (entry["idType"], entry["legalRepresentative"]) == ("uscc", "王强")
    assert entry["sex"] is None
    assert entry["age"] is None


async def test_duplicate_same_debtor_same_case_refused(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    await actors.publish(resident_id(1), CASE)
    again = {"entry": entry_input(resident_id(1), CASE)}
    [error] = await actors.errors(actors.admin, PUBLISH, again)
    assert error["extensions"]["code"] == "DUPLICATE_ENTRY"
    # The same debtor in another case is a second entry.
    await actors.publish(resident_id(1), "(2024)豫0823执2号")


async def test_invalid_entries_refused_with_the_field(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    cases = {
        "entry.subject.residentId": entry_input(bad_check_digit(resident_id(1)), CASE),
        "subject.name": entry_input(resident_id(1), CASE, subject={"residentId": resident_id(1)}),
        "filed_on": entry_input(resident_id(1), CASE, filedOn=days_from(PUBLISHED_ON, 1)),
        "obligations": entry_input(resident_id(1), CASE, obligations="  "),
    }
    for field, entry in cases.items():
        [error] = await actors.errors(actors.admin, PUBLISH, {"entry": entry})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    data = await actors.ok(actors.bank, STATUS, {"subjects": [{"residentId": resident_id(1)}]})
    assert data["dishonestStatus"][0]["listed"] is False


async def test_only_court_admins_with_the_scope_publish(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    response = await gateway.graphql(
        actors.bank, PUBLISH, {"entry": entry_input(resident_id(1), CASE)}
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "INSUFFICIENT_SCOPE"


async def test_correct_and_remove_own_court_entry(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    entry = await actors.publish(resident_id(1), CASE)
    corrected = entry_input(resident_id(1), CASE, performance="PARTLY_PERFORMED")
    variables = {"id": entry["id"], "entry": corrected, "reason": "部分履行"}
    data = await actors.ok(actors.admin, CORRECT, variables)
    assert data["correctDishonestEntry"]["state"] == "CORRECTED"
    assert data["correctDishonestEntry"]["performance"] == "PARTLY_PERFORMED"
    assert data["correctDishonestEntry"]["stateReason"] == "部分履行"
    removed = await actors.ok(actors.admin, REMOVE, {"id": entry["id"], "reason": "全部履行"})
    assert removed["removeDishonestEntry"]["state"] == "REMOVED"
    # Removed is final: no more corrections, no second removal.
    [error] = await actors.errors(actors.admin, REMOVE, {"id": entry["id"], "reason": "again"})
    assert error["extensions"]["code"] == "ENTRY_REMOVED"
    # ...but the debtor may be listed again in the same case.
    await actors.publish(resident_id(1), CASE)


async def test_another_courts_entry_cannot_be_corrected_or_removed(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    entry = await actors.publish(resident_id(1), CASE)
    variables = {"id": entry["id"], "entry": entry_input(resident_id(1), CASE), "reason": "x"}
    [error] = await actors.errors(actors.other_admin, CORRECT, variables)
    assert error["extensions"]["code"] == "FORBIDDEN"
    [error] = await actors.errors(actors.other_admin, REMOVE, {"id": entry["id"], "reason": "x"})
    assert error["extensions"]["code"] == "FORBIDDEN"
    [error] = await actors.errors(actors.admin, REMOVE, {"id": "999", "reason": "x"})
    assert error["extensions"]["code"] == "NOT_FOUND"
    data = await actors.ok(actors.bank, STATUS, {"subjects": [{"residentId": resident_id(1)}]})
    assert data["dishonestStatus"][0]["entries"][0]["state"] == "PUBLISHED"


async def test_correction_onto_an_existing_pair_is_a_duplicate(gateway: Gateway) -> None:
    actors = await list_actors(gateway)
    await actors.publish(resident_id(1), CASE)
    second = await actors.publish(resident_id(2), CASE)
    variables = {"id": second["id"], "entry": entry_input(resident_id(1), CASE), "reason": "ID"}
    [error] = await actors.errors(actors.admin, CORRECT, variables)
    assert error["extensions"]["code"] == "DUPLICATE_ENTRY"
