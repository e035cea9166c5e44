"""Journey map: the swimlane built from the data beside the team's assumptions; edited live,
saved as versions, presented full screen (``?present=1``) and exported."""

from __future__ import annotations

import streamlit as st

import ui
from cjm_core.errors import MapConflict
from cjm_core.journey_map.build import build_map, compare_maps
from cjm_core.journey_map.chart import swimlane_chart
from cjm_core.journey_map.export import export
from cjm_core.journey_map.model import (
    CHALLENGE_CODES,
    JourneyMap,
    apply_emotion_rows,
    apply_item_rows,
    apply_lane_rows,
    apply_stage_rows,
    emotion_rows,
    item_rows,
    lane_rows,
    stage_rows,
)
from cjm_core.journey_map.status import map_status, segment_choices, stage_focus
from cjm_core.model import settings as S
from cjm_core.storage.workspaces import workspace_targets

PRESENT = st.query_params.get("present") == "1"
ws_id = ui.page_setup(sidebar=not PRESENT)
store = ui.workspace_store()
data, key = ui.dataset(ws_id)
targets = workspace_targets(store, ws_id)
EDITABLE_LANES = {"actions": "Customer actions", "thoughts": "Thoughts",
                  "pain_points": "Pain points", "opportunities": "Opportunities",
                  "backstage": "Backstage / owning team", "touchpoints": "Touchpoints",
                  "channels": "Channels"}


def working() -> tuple[JourneyMap, int | None]:
    """The map being edited in this session and the version it started from."""
    state = st.session_state
    asked = st.query_params.get("version")
    if asked and asked.isdigit() and asked != state.get("map_url_version"):
        state.pop("map_json", None)  # a link to a version opens that version
    if state.get("map_ws") != ws_id or "map_json" not in state:
        saved = store.load_map_version(ws_id, int(asked) if asked and asked.isdigit() else None)
        saved = saved or store.load_map_version(ws_id)
        if saved is None:
            m = ui.compute(key, build_map, data, targets=targets)
            state["map_json"], state["map_base"] = m.to_json(), None
        else:
            state["map_base"], state["map_json"] = saved
        state["map_ws"] = ws_id
    return JourneyMap.from_json(state["map_json"]), state["map_base"]


def keep(m: JourneyMap) -> None:
    st.session_state["map_json"] = m.to_json()


@st.cache_data(max_entries=64, show_spinner=False)
def swimlane_spec(map_json: str, width: int | None = None, large: bool = False, *,
                  fit: tuple[int, int] | None = None, focus: int | None = None,
                  hide: tuple[str, ...] = ()) -> dict:
    """The map's swimlane as a Vega-Lite spec, built once per map and view for every session:
    building and validating the Altair chart is this page's costliest step (≈ 0.3 s a chart),
    and sessions that open the same map would otherwise each pay it."""
    return swimlane_chart(JourneyMap.from_json(map_json), large=large, width=width, fit=fit,
                          focus=focus, hide_lanes=hide).to_dict()


def show_map(m: JourneyMap, width: int, *, large: bool = False, where=st) -> None:
    # drawn at its own size, not stretched ("content"), and without Streamlit's theme: the
    # screen shows what the exports show; CSS (_MAP_CSS) only scales it down to fit
    with ui.guard():
        where.vega_lite_chart(swimlane_spec(m.to_json(), width, large), width="content",
                              theme=None)


#: the map's SVG is scaled down (never distorted) to its column; in presentation mode to the
#: window below the stage bar. A fixed style, no user text.
_MAP_CSS = """
<style>
[data-testid="stVegaLiteChart"] svg.marks { max-width: 100%; height: auto; }
</style>
"""
#: the presentation's bar of controls (arrows, stage, lanes) in CSS pixels
PRESENT_BAR = 80
_PRESENT_CSS = f"""
<style>
[data-testid="stMainBlockContainer"], .block-container {{
  padding: 6px 12px 0 12px !important;
}}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] {{ gap: 6px; }}
[data-testid="stVegaLiteChart"] {{ display: flex; justify-content: center; }}
[data-testid="stVegaLiteChart"] svg.marks {{
  width: auto; height: auto; max-width: 100%; max-height: calc(100vh - {PRESENT_BAR}px);
}}
[data-testid="stElementToolbar"] {{ display: none !important; }}
</style>
"""


def step_to(index: int) -> None:
    st.query_params["stage"] = str(index)


def present(m: JourneyMap) -> None:
    """Presentation mode: the whole map on one screen (laid out for ``w``×``h``, default
    1920×1080, then scaled to the window), the presented stage highlighted in the map; ◀ ▶ or
    the arrow keys step through the stages, a lane picker hides lanes for the room. Stage,
    hidden lanes and screen size are in the URL, so a bookmark reproduces the view."""
    ui.presentation_style()
    st.html(_PRESENT_CSS)
    stages = m.visible_stages()
    if not stages:
        st.info("The map has no visible stages: show at least one on the map's Edit tab.")
        return
    focus = stage_focus(st.query_params.get("stage"), len(stages))
    lanes = {la.key: la.title for la in m.visible_lanes() if la.key != "stage"}
    params = st.query_params.to_dict()
    width, height = S.MAP_WIDTH.read(params), S.MAP_HEIGHT.read(params)
    prev, name, pick, nxt = st.columns([2, 12, 3, 2], vertical_alignment="center")
    prev.button("◀", key="present_prev", shortcut="Left", disabled=focus == 0, width="stretch",
                on_click=step_to, args=(focus - 1,), help="Previous stage (←)")
    nxt.button("▶", key="present_next", shortcut="Right", disabled=focus >= len(stages) - 1,
               width="stretch", on_click=step_to, args=(focus + 1,), help="Next stage (→)")
    name.markdown(f"**Stage {focus + 1} of {len(stages)}: {ui.md_escape(stages[focus].name)}**")
    with pick.popover("Lanes", width="stretch"):
        hidden = st.multiselect("Hide lanes for the room", list(lanes), format_func=lanes.get,
                                help=S.MAP_HIDE.help, key=ui.view_key(S.MAP_HIDE, choices=lanes))
    ui.keep_view(S.MAP_HIDE, hidden)
    with ui.guard():
        spec = swimlane_spec(m.to_json(), fit=(width, height - PRESENT_BAR), focus=focus,
                             hide=tuple(hidden))
        st.vega_lite_chart(spec, width="content", theme=None)


m, base = working()
if base is not None:  # the URL names the version on screen
    st.query_params["version"] = st.session_state["map_url_version"] = str(base)
st.html(_MAP_CSS)
if PRESENT:
    present(m)
    st.stop()

st.title("Journey map")
ui.show_flash()
status = map_status(m, base, store.map_versions(ws_id),
                    data_digest=ui.data_digest(key, data),
                    data_updated_at=store.get_workspace(ws_id).data_updated_at)
st.caption(ui.md_escape(status.caption))  # it names who saved the version
if status.stale:
    st.warning(ui.md_escape(status.stale_note))

if ui.can_edit():
    a, b, c, d = st.columns([2, 2, 2, 2])
    author = a.text_input("Your name (for the history)", key="map_author")
    note = b.text_input("What changed", key="map_note")
    if c.button("Save as a new version", type="primary", key="map_save"):
        try:
            version = store.save_map_version(ws_id, m.to_json(), expected=base, author=author,
                                             note=note)
        except MapConflict as exc:
            st.session_state["map_conflict"] = exc.latest
            ui.show_error(exc)
        else:
            st.session_state["map_base"] = version
            st.session_state.pop("map_conflict", None)
            ui.flash(f"Saved as version {version}.")
            st.rerun()
    if st.session_state.get("map_conflict"):
        latest = st.session_state["map_conflict"]
        x, y = st.columns(2)
        if x.button(f"Keep my edits and save them over version {latest}", key="map_force"):
            st.session_state["map_base"] = latest
            st.session_state.pop("map_conflict")
            st.rerun()
        if y.button(f"Drop my edits and open version {latest}", key="map_reload"):
            st.session_state.pop("map_json")
            st.session_state.pop("map_conflict")
            st.rerun()
    if d.button("Refresh measured lanes from the data", key="map_refresh",
                help="Rebuilds the lanes that come from data; the team's entries stay as they are"):
        keep(ui.compute(key, build_map, data, targets=targets, previous=m))
        st.rerun()
present_link = f"?ws={st.query_params.get('ws', ws_id)}&present=1" + (
    f"&version={base}" if base is not None else "")
st.link_button("Present (full screen)", present_link, help="Bookmark this link")

show_map(m, 1100)
if m.flagged_stages():
    names = [s.name for s in m.stages if s.key in m.flagged_stages()]
    st.info("⚑ The team's assumed emotion and the measured one differ by more than one step at: "
            + ui.md_escape(", ".join(names)))

edit, history, compare, download = st.tabs(["Edit", "History", "Compare segments", "Export"])
def edit_tab() -> None:
    """Table editors for stages, lanes, emotions and one lane's entries."""
    st.markdown("**Stages** (rename, reorder, hide; add or delete rows)")
    rows = st.data_editor(stage_rows(m), num_rows="dynamic", key="map_stage_rows",
                          hide_index=True, placeholder="–", column_config={
                              "key": None, "order": st.column_config.NumberColumn(
                                  "Order", min_value=1, step=1),
                              "name": st.column_config.TextColumn("Stage"),
                              "hidden": st.column_config.CheckboxColumn("Hidden", default=False)})
    st.markdown("**Lanes** (rename, reorder, hide)")
    lanes = st.data_editor(lane_rows(m), key="map_lane_rows", hide_index=True,
                           placeholder="–", column_config={
                               "key": None, "order": st.column_config.NumberColumn(
                                   "Order", min_value=1, step=1),
                               "title": st.column_config.TextColumn("Lane"),
                               "hidden": st.column_config.CheckboxColumn("Hidden")})
    st.markdown("**Emotion** (the team's assumption, −2 … +2; measured values come from "
                "satisfaction)")
    emotions = st.data_editor(emotion_rows(m), key="map_emotion_rows", hide_index=True,
                              disabled=["stage", "measured", "n"], placeholder="–",
                              column_config={
                                  "stage": st.column_config.TextColumn("Stage"),
                                  "assumed": st.column_config.NumberColumn(
                                      "Assumed (−2 … +2)", min_value=-2.0, max_value=2.0,
                                      step=0.5, format="%+.1f"),
                                  "measured": st.column_config.NumberColumn(
                                      "Measured", format="%+.1f"),
                                  "n": st.column_config.NumberColumn("Answers", format="%d")})
    lane = st.selectbox("Lane to edit", list(EDITABLE_LANES),
                        format_func=EDITABLE_LANES.get, key="map_lane")
    stage_names = [s.name for s in m.stages]
    items = st.data_editor(
        item_rows(m, lane), num_rows="dynamic", key=f"map_items_{lane}", hide_index=True,
        placeholder="–", column_config={
            "stage": st.column_config.SelectboxColumn("Stage", options=stage_names,
                                                      required=True),
            "text": st.column_config.TextColumn("Text"),
            "code": st.column_config.SelectboxColumn(
                "Challenge code", options=list(CHALLENGE_CODES),
                help="; ".join(f"{k} {v}" for k, v in CHALLENGE_CODES.items())),
            "owner": st.column_config.TextColumn("Owner"),
            "note": st.column_config.CheckboxColumn(
                "Stage note", default=False,
                help="free text for the stage rather than a list entry"),
        })
    if st.button("Apply edits to the map", key="map_apply"):
        edited = apply_stage_rows(m, rows)
        edited = apply_lane_rows(edited, lanes)
        edited = apply_emotion_rows(edited, emotions)
        edited = apply_item_rows(edited, lane, items)
        keep(edited)
        st.rerun()


with edit:
    if ui.can_edit():
        with ui.guard():
            edit_tab()
    else:
        st.info("Shared with you read-only: the map can be viewed, presented and exported.")

with history:
    for h in store.map_versions(ws_id):
        cols = st.columns([1, 3, 3, 2])
        cols[0].text(f"v{h.version}")
        cols[1].text(f"{h.saved_at:%Y-%m-%d %H:%M} UTC · {h.author or 'someone'}")
        cols[2].text(h.note or "")
        if ui.can_edit() and cols[3].button("Restore", key=f"map_restore_{h.version}"):
            _, body = store.load_map_version(ws_id, h.version)
            keep(JourneyMap.from_json(body))
            st.info(f"Version {h.version} is open; save it to make it the latest.")
            st.rerun()

with compare:
    choices = segment_choices(data)
    if len(choices) < 2:
        st.info("Segments come from the events' segment column or the customers' first "
                "channel; this data has fewer than two.")
    else:
        x, y = st.columns(2)
        one = x.selectbox("Map A", choices, format_func=lambda c: f"{c[0]} = {c[1]}",
                          key="map_seg_a")
        two = y.selectbox("Map B", choices, index=1, format_func=lambda c: f"{c[0]} = {c[1]}",
                          key="map_seg_b")
        ma = ui.compute(key, build_map, data, targets=targets, segment=one, previous=m)
        mb = ui.compute(key, build_map, data, targets=targets, segment=two, previous=m)
        st.dataframe(compare_maps(ma, mb), hide_index=True, width="stretch")
        show_map(ma, 640, where=x)
        show_map(mb, 640, where=y)

with download:
    fmt = st.radio("Format", ["png", "svg", "pdf", "json", "csv"], horizontal=True,
                   key="map_export_format")
    if st.button("Prepare the file", key="map_export"):
        with st.spinner(f"Rendering the map as {fmt.upper()}…"):
            st.session_state["map_file"] = (fmt, *export(m, fmt))
    if st.session_state.get("map_file"):
        fmt_done, body, mime, suffix = st.session_state["map_file"]
        st.download_button(f"Download {fmt_done.upper()}", body, mime=mime,
                           file_name=f"journey_map{suffix}", key="map_download")
