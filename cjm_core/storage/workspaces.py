"""Workspace services on top of the store: seeding the sample workspaces and saving uploads.

Kept apart from :mod:`cjm_core.storage.store` (which only persists) so the app and the command
line share one way of turning loaded tables into a workspace.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl

from cjm_core.errors import StoreError
from cjm_core.industries.journeys import INDUSTRIES
from cjm_core.industries.targets import Target, targets_for, targets_from_json, targets_to_json
from cjm_core.ingest.pipeline import TableLoad, ingest
from cjm_core.model.dataset import TABLE_NAMES, Dataset
from cjm_core.model.journey import (
    Journey,
    default_journey,
    journey_from_counts,
    journey_from_events,
)
from cjm_core.parallel import run_both
from cjm_core.storage.protocol import WorkspaceStore

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"
DEFAULT_SAMPLE = "4742"


def sample_workspace_id(isic: str) -> str:
    """Stable id of the sample workspace of an industry.

    >>> sample_workspace_id("4742")
    'sample-4742'
    """
    return f"sample-{isic}"


def sample_workbook(isic: str) -> Path:
    return SAMPLE_DIR / f"sample_{isic}.xlsx"


def ensure_sample_workspace(store: WorkspaceStore, isic: str = DEFAULT_SAMPLE) -> str:
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
    store: WorkspaceStore, workspace_id: str, loads: list[TableLoad], *,
    remember_mapping: bool = True,
) -> dict[str, int]:
    """Save the loaded rows of each table (replacing that table) and remember the mappings.

    Returns rows saved per table. Tables with nothing loaded are not saved: a failed or unanswered
    load never wipes what the workspace already holds. When events (or funnel counts) are saved
    and the workspace's journey is still its industry's untouched template, the journey becomes
    the data's own (:func:`data_journey`); a journey the user has edited is kept, and the Data
    page offers the data's one beside it.
    """
    saving = [ld for ld in loads if ld.result.rows_loaded > 0]
    if len({ld.result.table for ld in saving}) != len(saving):
        raise StoreError(
            "Two of the chosen sheets or files are the same table; choose a different table for "
            "one of them or upload them one at a time."
        )
    tables = {ld.result.table: ld.result.data for ld in saving}
    # the data's journey is worked out from the frames while DuckDB writes them
    adopt = _journey_to_adopt(store, workspace_id, tables)
    proposed = None
    if saving:
        def save() -> None:  # data and its upload-history line in one transaction
            store.save_tables(
                workspace_id, tables,
                sources={ld.result.table: ld.source for ld in saving},
                uploads={ld.result.table: {"rows_in": ld.result.rows_in,
                                           "sheet": ld.sheet or "",
                                           "rows_rejected": ld.result.rows_rejected}
                         for ld in saving},
            )
        _, proposed = run_both(save, lambda: data_journey(adopt) if adopt else None)
    for ld in loads:
        if ld.result.rows_loaded == 0:
            store.record_upload(
                workspace_id, source=ld.source, sheet=ld.sheet or "", table=ld.result.table,
                rows_in=ld.result.rows_in, rows_loaded=0, rows_rejected=ld.result.rows_rejected,
            )
    if remember_mapping:
        for ld in saving:
            store.save_mapping(ld.columns, ld.result.table, ld.result.roles,
                               date_order=ld.choice.date_order, scales=ld.choice.scales)
    if adopt is not None and proposed is not None and proposed != adopt.journey:
        store.save_journey(workspace_id, proposed)
    return {t: f.height for t, f in tables.items()}


def _journey_to_adopt(store: WorkspaceStore, workspace_id: str,
                      tables: dict[str, pl.DataFrame]) -> Dataset | None:
    """The events and funnel counts the workspace will hold once ``tables`` are saved, with its
    journey, when saving them makes the journey the data's own: events or funnel counts are
    saved and the journey is still its industry's untouched template. None otherwise."""
    if not {"events", "funnel_counts"} & set(tables):
        return None
    current = store.get_journey(workspace_id)
    if current.isic not in INDUSTRIES or current != default_journey(current.isic):
        return None
    staged = {t: tables[t] if t in tables else store.load_table(workspace_id, t)
              for t in ("events", "funnel_counts")}
    return Dataset(current, **staged)


def data_journey(data: Dataset) -> Journey | None:
    """The journey the data's own stages give, under the dataset journey's industry: the
    events' stages in the order customers meet them (:func:`cjm_core.model.journey.stage_order`),
    else the funnel counts' stages in file order, with the template's names and stage roles
    where they correspond; None when no table has stages.

    >>> import polars as pl
    >>> counts = pl.DataFrame({"stage": ["Anfrage", "Beratung", "Kauf"], "customers": [9, 5, 2]})
    >>> data_journey(Dataset(default_journey("4773"), funnel_counts=counts)).stage_roles
    {'inquiry': 'anfrage', 'consultation': 'beratung', 'purchase': 'kauf'}
    """
    isic = data.journey.isic
    if data.events is not None and data.has("events", "customer_id", "timestamp", "stage"):
        journey = journey_from_events(data.events, isic)
        if journey.stages:
            return journey
    if data.funnel_counts is not None and data.has("funnel_counts", "stage"):
        journey = journey_from_counts(data.funnel_counts, isic)
        if journey.stages:
            return journey
    return None


def new_workspace(store: WorkspaceStore, name: str, isic: str) -> str:
    """Create an empty workspace with the industry's default journey (until its first events
    are saved: then the journey becomes the data's own, see :func:`save_loads`)."""
    name = name.strip()
    if not name:
        raise StoreError("Give the workspace a name.")
    journey: Journey = default_journey(isic)
    return store.create_workspace(name, journey)


def load_dataset(store: WorkspaceStore, workspace_id: str) -> Dataset:
    """Every table of a workspace and its journey as one :class:`Dataset`."""
    tables = {t: store.load_table(workspace_id, t) for t in TABLE_NAMES}
    return Dataset(store.get_journey(workspace_id), **tables).with_stage_names()


TARGETS_SETTING = "targets"


def workspace_targets(store: WorkspaceStore, workspace_id: str, *,
                      include_disabled: bool = False) -> list[Target]:
    """The industry's targets with the workspace's edits applied (switched-off ones left out
    unless ``include_disabled``, as the editor needs them)."""
    isic = store.get_journey(workspace_id).isic
    saved = store.get_setting(workspace_id, TARGETS_SETTING)
    return targets_for(isic, targets_from_json(saved) if saved else None,
                       include_disabled=include_disabled)


def save_workspace_targets(store: WorkspaceStore, workspace_id: str,
                           edited: list[Target]) -> None:
    """Keep the edited targets of a workspace (the built-ins stay as they are)."""
    store.save_setting(workspace_id, TARGETS_SETTING, targets_to_json(edited))


def reset_workspace_targets(store: WorkspaceStore, workspace_id: str) -> None:
    store.delete_setting(workspace_id, TARGETS_SETTING)


def dataset_from_loads(loads: list[TableLoad], isic: str = DEFAULT_SAMPLE) -> Dataset:
    """A dataset straight from loaded files (the command line's way, no workspace): each table
    from the file or sheet that loaded it, and the journey the data's own stages give
    (:func:`data_journey`); the industry's default journey only when no table has stages."""
    tables: dict[str, pl.DataFrame] = {}
    for ld in loads:
        if ld.result.rows_loaded == 0:
            continue
        if ld.result.table in tables:
            raise StoreError(f"Two files or sheets hold the {ld.result.table} table; give one "
                             "of each table.")
        tables[ld.result.table] = ld.result.data
    data = Dataset(default_journey(isic), **tables)
    journey = data_journey(data)
    return replace(data, journey=journey).with_stage_names() if journey else data
