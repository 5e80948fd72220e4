"""Campaigns on record: 自评 → 核定 → 抽查 → 通报, kept in a database.

A campaign keeps its pack's YAML text and hash, its period and its unit
list; everything that happens is an append-only, hash-chained event
(submissions, rejected files, 核定 corrections, 抽查 findings, 通报).  The
current state and every score are derived from the events with the stored
pack (:mod:`.state`), never from cached results.

Public API::

    store = Store("rubric-xl.db")                      # or a postgresql:// URL
    c = store.create(pack, pack_text, "2005", units)
    import_files(store, c, ["上报/"], manifest)        # ImportReport
    review(store, c, "太原市", [Change(fact, "18", "理由", "依据")], "张三")
    state = derive(c, store.events(c)); report_data(state)
    store.verify(c)                                    # problems with the hash chain

Modules: ``models`` (tables), ``migrations`` (Alembic), ``db`` (URL, engine,
migrate), ``chain`` (hash chain, verify), ``store`` (append with retry),
``codec`` (facts ↔ JSON), ``identity`` and ``importer`` (自评), ``review``
(核定, 抽查), ``sheet`` (核定表 workbook), ``state`` (derived state),
``report`` (通报), ``publish``, ``history``, ``compare`` (diff, rescore).
"""
from .importer import ImportReport, import_files
from .review import Change, confirm, review, spotcheck
from .state import CampaignState, UnitState, derive
from .store import Campaign, Event, Store, StoreError

__all__ = ["Store", "StoreError", "Campaign", "Event", "import_files", "ImportReport", "review", "confirm",
           "spotcheck", "Change", "derive", "CampaignState", "UnitState"]
