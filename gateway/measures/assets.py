"""What investigations returned: the assets measures may later be ordered on.

After an investigation, the keys of the controllable assets the officer was
shown (account numbers of ``bank.accounts`` ...) are remembered per case and
subject, as keyed references only (gateway.measures.store), so that a measure
on an asset the investigation never returned is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.control import CONTROLLED_DATASETS
from gateway.authority import Authority
from gateway.context import RequestContext
from gateway.db import run_read, run_sync
from gateway.federation import DatasetAnswer
from gateway.measures.service import subject_index_of

__all__ = ["remember_investigated_assets"]


async def remember_investigated_assets(
    context: RequestContext, authority: Authority, answers: Mapping[str, DatasetAnswer]
) -> None:
    """Record the controllable assets among ``answers`` (those the officer saw in full)."""
    store = context.services.measures
    if store is None:
        return
    case_number = authority.case.case_number
    subject_index = subject_index_of(store, authority)
    refs = []
    for dataset, controlled in CONTROLLED_DATASETS.items():
        answer = answers.get(dataset)
        if answer is None:
            continue
        for record in answer.records:
            key = record.values.get(controlled.key_field)
            if isinstance(key, str) and key:
                asset = store.asset_ref(record.agency.id, dataset, key)
                refs.append(store.found_ref(case_number, subject_index, asset))
    # Investigations repeat: most find what an earlier one recorded, and a read costs
    # far less than a write transaction (which on SQLite queues behind the audit log).
    # Known recorded here: no database call at all (the common case).
    refs = store.not_known_here(refs)
    fresh = await run_read(store.engine, store.unknown_refs, refs) if refs else []
    if fresh:
        await run_sync(store.remember_assets, case_number, fresh)
