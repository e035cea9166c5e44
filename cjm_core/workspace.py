"""Workspace services on top of the store: seeding the sample workspaces and saving uploads.

Kept apart from :mod:`cjm_core.store` (which only persists) so the app and the command line share
one way of turning loaded tables into a workspace.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from cjm_core.benchmarks import Target, targets_for, targets_from_json, targets_to_json
from cjm_core.dataset import TABLE_NAMES, Dataset
from cjm_core.errors import StoreError
from cjm_core.ingest import TableLoad, ingest
from cjm_core.journey import (
    INDUSTRIES,
    Journey,
    default_journey,
    journey_from_rows,
    unknown_stages,
)
from cjm_core.store import Store

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
DEFAULT_SAMPLE = "4742"


def sample_workspace_id(isic: str) -> str:
    """Stable id of the sample workspace of an industry.

    >>> sample_workspace_id("4742")
    'sample-4742'
    """
    return f"sample-{isic}"


def sample_workbook(isic: str) -> Path:
    return SAMPLE_DIR / f"sample_{isic}.xlsx"


def ensure_sample_workspace(store: Store, isic: str = DEFAULT_SAMPLE) -> str:
    """Create the sample workspace of an industry from ``sample_data/`` if it is not there yet."""
    ws_id = sample_workspace_id(isic)
    if any(w.id == ws_id for w in store.list_workspaces()):
        return ws_id
    path = sample_workbook(isic)
    loads = ingest(path.read_bytes(), path.name)
    name = f"Sample: {INDUSTRIES[isic]} (ISIC {isic})"
    store.create_workspace(name, default_journey(isic), workspace_id=ws_id)
    save_loads(store, ws_id, loads, remember_mapping=False)
    return ws_id


def save_loads(
    store: Store, workspace_id: str, loads: list[TableLoad], *, remember_mapping: bool = True
) -> dict[str, int]:
    """Save the loaded rows of each table (replacing that table) and remember the mappings.

    Returns rows saved per table. Tables with nothing loaded are not saved: a failed or unanswered
    load never wipes what the workspace already holds.
    """
    saving = [ld for ld in loads if ld.result.rows_loaded > 0]
    if len({ld.result.table for ld in saving}) != len(saving):
        raise StoreError(
            "Two of the chosen sheets or files are the same table; choose a different table for "
            "one of them or upload them one at a time."
        )
    tables = {ld.result.table: ld.result.data for ld in saving}
    if saving:
        # data and its upload-history line in one transaction
        store.save_tables(
            workspace_id, tables,
            sources={ld.result.table: ld.source for ld in saving},
            uploads={ld.result.table: {"rows_in": ld.result.rows_in, "sheet": ld.sheet or "",
                                       "rows_rejected": ld.result.rows_rejected}
                     for ld in saving},
        )
    for ld in loads:
        if ld.result.rows_loaded == 0:
            store.record_upload(
                workspace_id, source=ld.source, sheet=ld.sheet, table=ld.result.table,
                rows_in=ld.result.rows_in, rows_loaded=0, rows_rejected=ld.result.rows_rejected,
            )
    if remember_mapping:
        for ld in saving:
            store.save_mapping(ld.columns, ld.result.table, ld.result.roles,
                               date_order=ld.choice.date_order, scales=ld.choice.scales)
    return {t: f.height for t, f in tables.items()}


def new_workspace(store: Store, name: str, isic: str) -> str:
    """Create an empty workspace with the industry's default journey."""
    name = name.strip()
    if not name:
        raise StoreError("Give the workspace a name.")
    journey: Journey = default_journey(isic)
    return store.create_workspace(name, journey)


def load_dataset(store: Store, workspace_id: str) -> Dataset:
    """Every table of a workspace and its journey as one :class:`Dataset`."""
    tables = {t: store.load_table(workspace_id, t) for t in TABLE_NAMES}
    return Dataset(store.get_journey(workspace_id), **tables)


TARGETS_SETTING = "targets"


def workspace_targets(store: Store, workspace_id: str, *, include_disabled: bool = False
                      ) -> list[Target]:
    """The industry's targets with the workspace's edits applied (switched-off ones left out
    unless ``include_disabled``, as the editor needs them)."""
    isic = store.get_journey(workspace_id).isic
    saved = store.get_setting(workspace_id, TARGETS_SETTING)
    return targets_for(isic, targets_from_json(saved) if saved else None,
                       include_disabled=include_disabled)


def save_workspace_targets(store: Store, workspace_id: str, edited: list[Target]) -> None:
    """Keep the edited targets of a workspace (the built-ins stay as they are)."""
    store.save_setting(workspace_id, TARGETS_SETTING, targets_to_json(edited))


def reset_workspace_targets(store: Store, workspace_id: str) -> None:
    store.delete_setting(workspace_id, TARGETS_SETTING)


def dataset_from_loads(loads: list[TableLoad], isic: str = DEFAULT_SAMPLE) -> Dataset:
    """A dataset straight from loaded files (the command line's way, no workspace): each table
    from the file or sheet that loaded it; the industry's default journey, with the stages found
    in the events appended when the template does not name them."""
    tables: dict[str, object] = {}
    for ld in loads:
        if ld.result.rows_loaded == 0:
            continue
        if ld.result.table in tables:
            raise StoreError(f"Two files or sheets hold the {ld.result.table} table; give one "
                             "of each table.")
        tables[ld.result.table] = ld.result.data
    journey = default_journey(isic)
    events = tables.get("events")
    if events is not None and "stage" in events.columns:
        found = (events.drop_nulls("stage").group_by("stage").agg(pl.col("timestamp").min())
                 .sort("timestamp", "stage")["stage"].to_list())
        extra = unknown_stages(journey, found)
        if extra:
            names = [s.name for s in journey.stages] + [s for s in found if s in extra]
            journey = journey_from_rows(isic, names, {
                r: k for r, k in journey.stage_roles.items()})
    return Dataset(journey, **tables)
