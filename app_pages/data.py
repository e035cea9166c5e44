"""Data: upload files, pick sheets, check the suggested table and roles, read the validation
report, download rejected rows, save; then set the journey's stages, stage roles and industry."""

from __future__ import annotations

import hashlib

import polars as pl
import streamlit as st

import ui
from cjm_core import warm
from cjm_core.industries.journeys import INDUSTRIES
from cjm_core.ingest.pipeline import choose, dedupe_problems, digest, holds_table, suggest
from cjm_core.ingest.preview import preview, role_header, unused_columns
from cjm_core.ingest.problems import CODES, code_counts
from cjm_core.ingest.validate import SCALES
from cjm_core.model.journey import (
    STAGE_ROLES,
    journey_from_rows,
    proposal_table,
    roles_text,
    stage_order,
    unknown_stages,
)
from cjm_core.model.schema import TABLES
from cjm_core.present.tables import codes_table, problems_table, proposal_view, role_label
from cjm_core.storage.workspaces import data_journey, new_workspace, save_loads

NONE = "— none —"
STATUS = {
    "loaded": (st.success, "Loaded: every row is valid."),
    "partial": (st.warning, "Partial load: some rows were rejected (they will not be saved) "
                "or some bad cells were left empty."),
    "failed": (st.error, "Nothing can be loaded from this table."),
    "needs_answer": (st.info, "A question must be answered before this table can load."),
}

ws_id = ui.page_setup()
store = ui.workspace_store()
ws = store.get_workspace(ws_id)
st.title("Data")
st.caption(f"Workspace: {ui.md_escape(ws.name)}")


def table_panel(file_key: str, index: int, raw) -> object | None:
    """Controls and validation report for one raw table; returns its load when chosen."""
    where = raw.source + (f" — sheet “{raw.sheet}”" if raw.sheet else "")
    base = suggest(raw, lookup=store.find_mapping)
    key = f"{file_key}:{index}"
    with st.container(border=True):
        st.markdown(f"**{ui.md_escape(where)}**")
        if base.mapping_reused:
            st.caption("Same columns as an earlier upload: its saved mapping is applied.")
        use = st.checkbox("Load this table", value=holds_table(raw, base), key=f"use:{key}")
        tables = list(TABLES)
        table = st.selectbox("Table", tables, index=tables.index(base.table), key=f"table:{key}",
                             help="Which kind of table this is (suggested from its columns)")
        choice = base if table == base.table else choose(raw, table)
        roles = role_editor(key, raw, table, choice)
        scales = scale_editor(key, table, roles, choice.scales)
        preview_section(key, raw, table, roles)
        date_order = choice.date_order
        mapped = tuple(sorted(roles.items()))
        # shown only when checking takes a while (half a second and more)
        checking = f"Checking {raw.frame.height:,} rows of {ui.md_escape(where)} as {table}…"
        with st.spinner(checking, show_time=True):
            loaded = ui.load_choice(key, raw, table, mapped, date_order,
                                    tuple(sorted(scales.items())))
        if loaded.result.status == "needs_answer":
            date_order, scales = answer_questions(key, loaded.result.questions, date_order,
                                                  scales)
            with st.spinner(checking, show_time=True):
                loaded = ui.load_choice(key, raw, table, mapped, date_order,
                                        tuple(sorted(scales.items())))
        report(key, loaded)
        return loaded if use else None


def role_editor(key: str, raw, table: str, choice) -> dict[str, str]:
    columns = [c for c in raw.frame.columns if c != "__row__"]
    st.markdown("Suggested roles (change any of them)")
    roles: dict[str, str] = {}
    grid = st.columns(3)
    for i, role in enumerate(TABLES[table]):
        current = choice.roles.get(role.name)
        options = [NONE, *columns]
        picked = grid[i % 3].selectbox(
            role_label(role.name, role.required), options,
            index=options.index(current) if current in columns else 0,
            key=f"role:{key}:{table}:{role.name}",
            help=choice.reasons.get(role.name) or role.help or None,
        )
        if picked != NONE:
            roles[role.name] = picked
    return roles


def preview_section(key: str, raw, table: str, roles: dict[str, str]) -> None:
    """The first rows under the chosen roles, so a wrong choice shows before anything is
    saved."""
    shown = preview(raw, table, roles)
    if not shown.width:
        st.info("No column has a role yet: choose the roles above to see the table as it will "
                "be saved.")
        return
    rows = (f"all {shown.height:,} rows" if shown.height == raw.frame.height
            else f"the first {shown.height:,} of {raw.frame.height:,} rows")
    st.markdown(f"**Preview**: {rows} as they will be read, headed by their roles")
    # headed as the role boxes name the roles ("CSAT (Zufriedenheit)")
    titles = {role_header(r, c): f"{role_label(r)} ({c})" for r, c in roles.items()}
    st.dataframe(shown, hide_index=True, width="stretch", key=f"preview:{key}",
                 column_config={h: t for h, t in titles.items() if h in shown.columns})
    unused = unused_columns(raw, roles)
    if unused:
        st.caption("Not saved (no role reads them): " + ui.md_escape(", ".join(unused)))


def scale_editor(key: str, table: str, roles: dict[str, str], saved: dict[str, int]
                 ) -> dict[str, int]:
    """A scale choice per mapped score column (NPS is always 0–10); "automatic" reads it from the
    header, else from the bulk of the answers."""
    scores = [r for r in roles if len(SCALES.get(r, ())) > 1]
    chosen: dict[str, int] = {}
    if not scores:
        return chosen
    grid = st.columns(3)
    for i, role in enumerate(scores):
        options = [0, *SCALES[role]]
        picked = grid[i % 3].selectbox(
            f"{role_label(role)} scale", options, index=options.index(saved.get(role, 0))
            if saved.get(role, 0) in options else 0,
            format_func=lambda n: "automatic (header, else most answers)" if n == 0
            else f"{n}-point",
            key=f"scale:{key}:{table}:{role}",
            help=f"The scale of column '{roles[role]}'; answers outside it are out of range.")
        if picked:
            chosen[role] = picked
    return chosen


def answer_questions(key: str, questions: list, date_order: str | None, scales: dict[str, int]
                     ) -> tuple[str | None, dict[str, int]]:
    """A radio per question (day/month order, a score's scale); the answers given so far."""
    scales = dict(scales)
    for question in questions:
        if question.code == "ambiguous-scale":
            answer = st.radio(ui.md_escape(question.message), question.options, horizontal=True,
                              format_func=lambda o: f"{o}-point", index=None,
                              key=f"scale_answer:{key}:{question.role}")
            if answer:
                scales[question.role] = int(answer)
        else:
            answer = st.radio(ui.md_escape(question.message), question.options, horizontal=True,
                              format_func={"dmy": "day first (31.12.)",
                                           "mdy": "month first (12/31)"}.get,
                              index=None, key=f"order:{key}")
            date_order = answer or date_order
    return date_order, scales


def report(key: str, loaded) -> None:
    r = loaded.result
    show, text = STATUS[r.status]
    cells = "cell" if r.cells_blanked == 1 else "cells"
    blanked = f", {r.cells_blanked:,} bad {cells} left empty" if r.cells_blanked else ""
    show(f"{text} {r.rows_loaded:,} of {r.rows_in:,} rows loaded, {r.rows_rejected:,} rejected"
         f"{blanked}.")
    a, b, c, d = st.columns(4)
    a.metric("Rows in", f"{r.rows_in:,}")
    b.metric("Loaded", f"{r.rows_loaded:,}")
    c.metric("Rejected", f"{r.rows_rejected:,}")
    d.metric("Cells blanked", f"{r.cells_blanked:,}")
    if r.scale_details:
        st.markdown("Score scales: " + "; ".join(
            f"{role_label(role)} (column '{ui.md_escape(s.column)}'): "
            f"{ui.md_escape(s.describe())}"
            for role, s in r.scale_details.items()))
    listed = dedupe_problems(list(loaded.raw.problems) + list(r.problems))
    problems = [p.to_dict() for p in listed]
    if problems:
        st.markdown("**Validation report**")
        codes = r.rejected["problems"].to_list() if "problems" in r.rejected.columns else []
        for code, n in code_counts(listed, codes, r.blanked_codes).items():
            st.markdown(f"- `{code}` × {n:,}: {CODES[code]}")
        st.dataframe(problems_table(problems), hide_index=True, width="stretch",
                     key=f"problems:{key}")
        if r.listed_note():
            st.caption(r.listed_note())
    if r.rows_rejected:
        ui.download_table("Download rejected rows (CSV)", r.rejected,
                          f"rejected_{loaded.source}.csv", key=f"rejected:{key}")


def upload_key(file_id: str, data: bytes) -> str:
    """The content digest of an uploaded file, hashed once per upload (a rerun of this page, as
    the Save click makes, would hash the whole file again: ≈ 0.15 s for 100 MB)."""
    keys = st.session_state.setdefault("upload_keys", {})
    if file_id not in keys:
        keys[file_id] = digest(data)
    return keys[file_id]


def upload_section() -> None:
    warm.begin()  # numba starts while the user picks a file (once per server process)
    files = st.file_uploader(
        "Upload exports (CSV, TSV, TXT, XLSX, XLS, ODS, Parquet, JSON lines)",
        accept_multiple_files=True, key="uploads",
    )
    chosen = []
    for up in files or []:
        data = up.getvalue()
        fkey = upload_key(up.file_id, data)
        with ui.guard() as reading:
            name = ui.md_escape(up.name)
            with st.status(f"Reading {name} ({len(data) / 1e6:.1f} MB)…") as status:
                raws = ui.read_upload(fkey, data, up.name)
                rows = sum(r.frame.height for r in raws)
                tables = f" in {len(raws)} sheets" if len(raws) > 1 else ""
                status.update(label=f"Read {name}: {rows:,} rows{tables}", state="complete",
                              expanded=False)
        if reading.failed:
            continue
        if len(raws) > 1:
            names = [r.sheet or r.source for r in raws]
            keep = st.multiselect(f"Sheets of {ui.md_escape(up.name)}", names, default=names,
                                  key=f"sheets:{fkey}")
            raws = [r for r in raws if (r.sheet or r.source) in keep]
        for i, raw in enumerate(raws):
            loaded = table_panel(fkey, i, raw)
            if loaded is not None:
                chosen.append(loaded)
    if st.session_state.get("uploads_saved"):  # said after the rerun that follows a save
        st.success(st.session_state.pop("uploads_saved"))
    if chosen and st.button("Save to workspace", type="primary", key="save_uploads"):
        before = store.get_journey(ws_id)
        rows = sum(load.result.rows_loaded for load in chosen)
        tables = "table" if len(chosen) == 1 else "tables"
        with st.status(f"Saving {rows:,} rows of {len(chosen)} {tables} to the workspace…",
                       expanded=False) as status, ui.guard() as saving:
            saved = save_loads(store, ws_id, chosen)
            status.update(label=f"Saved {sum(saved.values()):,} rows", state="complete")
            message = "Saved: " + ", ".join(f"{t} ({n:,} rows)" for t, n in saved.items()) + "."
            if store.get_journey(ws_id) != before:
                message += (" The journey now follows your data (stages in the order customers "
                            "meet them); check it under Journey below.")
            st.session_state["uploads_saved"] = message
            st.rerun()  # the sidebar's table counts and the journey form follow the save at once
        if saving.failed:  # the message is inside the status: open it
            status.update(label="Nothing was saved", state="error", expanded=True)


def journey_form_key(ws: str, journey) -> str:
    """The journey form's widget keys end with this: a new workspace, or a newly saved journey,
    gets new widgets. Clearing session state is not enough: the browser keeps a widget's value
    for its key and would send the previous workspace's industry back with the next click."""
    return hashlib.sha256(f"{ws}\n{journey.to_json()}".encode()).hexdigest()[:10]


def data_journey_panel(journey) -> None:
    """The journey the saved data show (stages in the order customers meet them), beside the
    saved one, with a button that makes it the workspace's journey."""
    data, key = ui.dataset(ws_id)
    proposed = ui.compute(key, data_journey, data)
    if proposed is None:
        return
    if proposed == journey:
        st.caption("The journey follows your data: its stages in the order customers meet "
                   "them. Edit it below if your process differs.")
        return
    order = (ui.compute(key, stage_order, data.events)
             if data.has("events", "customer_id", "timestamp", "stage") else None)
    st.info("Your data show this journey, its stages in the order customers meet them: "
            + ui.md_escape(" → ".join(s.name for s in proposed.stages)))
    st.dataframe(proposal_view(proposal_table(proposed, order)), hide_index=True,
                 key="data_journey_table")
    st.caption("Roles: " + ui.md_escape(roles_text(proposed) or "none"))
    if st.button("Use this journey", key="use_data_journey", type="primary"):
        store.save_journey(ws_id, proposed)
        ui.flash("Journey set from your data; edit it below if your process differs.")
        st.rerun()


def journey_section() -> None:
    st.header("Journey")
    ui.show_flash()
    journey = store.get_journey(ws_id)
    form = journey_form_key(ws_id, journey)  # this workspace's saved journey, nothing else
    data_journey_panel(journey)
    isics = list(INDUSTRIES)
    isic = st.selectbox("Industry (ISIC)", isics, index=isics.index(journey.isic)
                        if journey.isic in isics else 0,
                        format_func=lambda c: f"{c} — {INDUSTRIES[c]}", key=f"journey_isic@{form}")
    st.caption("Stages in order; edit names, add or delete rows, or change the order numbers.")
    table = pl.DataFrame({"order": list(range(1, len(journey.stages) + 1)),
                          "stage": [s.name for s in journey.stages]})
    edited = st.data_editor(table, num_rows="dynamic", hide_index=True,
                            key=f"journey_stages@{form}", placeholder="–", column_config={
                                "order": st.column_config.NumberColumn(
                                    "Order", min_value=1, step=1, format="%d",
                                    help="the stage's place in the journey (1 = first)"),
                                "stage": st.column_config.TextColumn(
                                    "Stage", help="its name as every page shows it")})
    rows = pl.DataFrame(edited).drop_nulls("stage").sort("order", nulls_last=True)
    names = rows["stage"].to_list()
    keys = {s.key: s.name for s in journey.stages}
    grid = st.columns(len(STAGE_ROLES))
    stage_roles = {}
    for col, role in zip(grid, STAGE_ROLES, strict=True):
        current = keys.get(journey.stage_roles.get(role, ""))
        options = [NONE, *names]
        picked = col.selectbox(f"{role.capitalize()} stage", options,
                               index=options.index(current)
                               if current in names else 0, key=f"stage_role:{role}@{form}",
                               help=f"The stage that plays the {role} role in the industry's "
                                    "targets")
        stage_roles[role] = None if picked == NONE else picked
    events = store.load_table(ws_id, "events")
    if events is not None and "stage" in events.columns:
        extra = unknown_stages(journey, events["stage"].unique().to_list())
        if extra:
            st.warning("Stages in your events that the journey does not name: "
                       + ui.md_escape(", ".join(extra)))
    if st.button("Save journey", key="save_journey"):
        with ui.guard():
            store.save_journey(ws_id, journey_from_rows(isic, names, stage_roles))
            st.success("Journey saved.")


def new_workspace_section() -> None:
    with st.expander("New workspace"):
        name = st.text_input("Name", key="new_ws_name")
        isic = st.selectbox("Industry", list(INDUSTRIES), key="new_ws_isic",
                            format_func=lambda c: f"{c} — {INDUSTRIES[c]}")
        if st.button("Create", key="new_ws_create"):
            with ui.guard():
                new_id = new_workspace(store, name, isic)
                ui.switch_workspace(new_id)
                st.session_state.pop("new_ws_name", None)  # an empty form for the next one
                st.rerun()


if not ui.can_edit():
    st.info("This workspace is shared with you read-only: uploads and the journey settings "
            "can only be changed by its owner or through an edit link.")
    st.stop()
if ui.role() == "owner":
    new_workspace_section()
upload_section()
with st.expander("Problem codes"):
    st.dataframe(codes_table(CODES), hide_index=True)
journey_section()


# -- events from a data lake (issue 15) ----------------------------------------------------------

LAKE_KINDS = {"parquet": "Parquet files", "delta": "Delta table (folder)",
              "table": "Catalog table (Spark)"}
LAKE_ENGINES = {"local": "Local (polars; Parquet only)", "spark": "Spark"}


def lake_section() -> None:
    """Point the workspace's events at a data lake: kind, location, engine and Spark master;
    test it (schema and events count through the engine), save or clear it."""
    from cjm_core.storage.source_repo import DEFAULT_MASTER, EventSource

    st.header("Events from a data lake (Spark)")
    st.caption("Read this workspace's events where they live (columns named as the events "
               "table's roles: customer_id, timestamp, stage, and channel, segment, touchpoint "
               "if any) instead of uploading them. The Funnel is computed there, by the local "
               "engine or on Spark, with the sidebar's filters pushed into the read; the map, "
               "targets and share links stay in this workspace. Other pages use the uploaded "
               "tables only.")
    if st.session_state.get("lake_flash"):
        st.success(st.session_state.pop("lake_flash"))
    current = store.get_event_source(ws_id)
    if current is not None:
        st.info(f"Events are read from {ui.md_escape(current.spec)} on "
                f"{ui.md_escape(current.where)}.")
    kinds, engines = list(LAKE_KINDS), list(LAKE_ENGINES)
    a, b = st.columns([1, 3])
    kind = a.selectbox("Kind", kinds, format_func=LAKE_KINDS.get, key="lake_kind",
                       index=kinds.index(current.kind) if current else 0)
    location = b.text_input("Location", value=current.location if current else "",
                            key="lake_location",
                            placeholder="/data/events/ or /data/events/*.parquet, "
                                        "s3a://bucket/events/, or db.events",
                            help="A folder, file or glob of Parquet files, a Delta folder, or "
                                 "a table name in Spark's catalog")
    c, d = st.columns([1, 3])
    engine = c.radio("Engine", engines, format_func=LAKE_ENGINES.get, key="lake_engine",
                     index=engines.index(current.engine) if current else 0)
    master = d.text_input("Spark master", key="lake_master",
                          value=current.master if current and current.master else DEFAULT_MASTER,
                          disabled=engine != "spark",
                          help="local[2] (Spark in this server's process, two cores), "
                               "spark://host:7077, yarn, or sc://host:15002 (Spark Connect)")
    save, test, clear = st.columns(3)
    if save.button("Save the source", key="lake_save", type="primary"):
        with ui.guard():
            source = EventSource.parse(kind, location, engine, master)
            store.save_event_source(ws_id, source)
            st.session_state["lake_flash"] = (f"Source saved: the Funnel reads "
                                              f"{source.spec} on {source.where}.")
            st.rerun()
    if test.button("Test the source", key="lake_test"):
        with ui.guard():
            source = EventSource.parse(kind, location, engine, master)
            facts = ui.test_source(source)
            days = (f", {facts.first_day} to {facts.last_day}" if facts.first_day else "")
            st.success(f"{ui.md_escape(source.spec)} on {ui.md_escape(source.where)}: "
                       f"{facts.rows:,} events, {len(facts.columns)} columns{days}.")
            if facts.missing():
                st.warning("The funnel needs the columns customer_id, timestamp and stage; "
                           f"missing: {ui.md_escape(', '.join(facts.missing()))}.")
            st.dataframe(pl.DataFrame({"column": list(facts.columns),
                                       "type": list(facts.columns.values())}),
                         hide_index=True, key="lake_schema")
    if current is not None and clear.button("Clear the source", key="lake_clear"):
        with ui.guard():
            store.delete_event_source(ws_id)
            st.session_state["lake_flash"] = ("Source cleared: the workspace's events are its "
                                              "uploaded tables again.")
            st.rerun()


if ui.role() == "owner":  # an edit link could otherwise read any path the server can
    lake_section()
