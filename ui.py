"""App-layer helpers shared by app.py and the pages: the store, the current workspace, cached
ingest, and the one place that turns core errors into messages. Pages lay out; the core computes.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import polars as pl
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from cjm_core.errors import CJMError, ShareLinkExpired, ShareLinkRevoked
from cjm_core.industries.journeys import INDUSTRIES
from cjm_core.ingest.pipeline import Choice, TableLoad, load
from cjm_core.ingest.read import RawTable, read_file
from cjm_core.model.dataset import Dataset
from cjm_core.model.filters import FILTER_SETTINGS, Facets, Filters, facets
from cjm_core.model.settings import DATA_DEFAULT, Setting
from cjm_core.parallel import pmap
from cjm_core.present.spreadsheet import frame_download
from cjm_core.storage.access import Throttle, client_key, expected_password, oidc_configured
from cjm_core.storage.store import (
    EventSource,
    ShareLink,
    Store,
    WorkspaceStore,
    default_db_path,
)
from cjm_core.storage.table_repo import UNHASHED
from cjm_core.storage.workspaces import (
    DEFAULT_SAMPLE,
    ensure_sample_workspace,
    load_dataset,
    sample_workspace_id,
)

WS_PARAM = "ws"


@st.cache_resource
def _store(path: str) -> Store:
    return Store.shared(path)


def get_store() -> Store:
    """The process's store for the database named by ``CJM_DB`` (or the default file)."""
    return _store(str(default_db_path()))


def md_escape(text: str) -> str:
    """User text inside markdown: every markdown and HTML character is taken literally, and
    no address becomes a link. GitHub-flavoured markdown links a bare ``http://…``, ``www.…``
    or e-mail address by itself, after escapes are read, so an invisible word joiner (U+2060)
    goes inside ``://``, ``www.`` and after ``@``."""
    escaped = "".join("\\" + c if c in "\\`*_{}[]()#+-.!|<>~$" else c for c in str(text))
    escaped = escaped.replace("://", ":\u2060//").replace("@", "@\u2060")
    return _WWW.sub(lambda m: m.group(1) + "\u2060", escaped)


_WWW = re.compile(r"(www)(?=\\\.)", re.IGNORECASE)


def show_error(exc: CJMError) -> None:
    """The one place a core error becomes what the user sees: its plain message (escaped: it
    quotes file names, columns and values), never a trace."""
    st.error(md_escape(exc.message), icon="⚠️")


class Guarded:
    """What a :func:`guard` block ended with: the core error it showed, if any."""

    error: CJMError | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


@contextmanager
def guard(*, stop: bool = False) -> Iterator[Guarded]:
    """Run a block that calls the core; a :class:`CJMError` it raises is shown through
    :func:`show_error` and the page goes on after the block (or ends there, with ``stop``).
    Anything else is a bug and propagates. ``with guard() as g: ...`` then ``g.failed``."""
    outcome = Guarded()
    try:
        yield outcome
    except CJMError as exc:
        outcome.error = exc
        show_error(exc)
        if stop:
            st.stop()


def download_table(label: str, frame: pl.DataFrame, file_name: str, *, key: str) -> None:
    """A download of a table, always through :func:`cjm_core.present.spreadsheet.frame_download`:
    every text cell neutralised, one extension (``.xlsx`` or CSV)."""
    data, mime, name = frame_download(frame, file_name)
    st.download_button(label, data, file_name=name, mime=mime, key=key)


def current_workspace_id() -> str:
    """The workspace named in the URL (``?ws=``), else the default sample, created on first open."""
    store = get_store()
    # the URL picks the workspace when a session starts (a bookmarked link); after that the
    # session's choice wins, since page links drop the query string
    ws_id = st.session_state.get("workspace_id") or st.query_params.get(WS_PARAM)
    known = {w.id for w in store.list_workspaces()}
    if ws_id and ws_id.startswith("sample-") and ws_id[len("sample-"):] in INDUSTRIES:
        ensure_sample_workspace(store, ws_id[len("sample-"):])
    elif ws_id not in known:
        ws_id = None if not ws_id else _unknown(ws_id)
    if ws_id:
        st.query_params[WS_PARAM] = ws_id
        return ws_id
    ws_id = ensure_sample_workspace(store, DEFAULT_SAMPLE)
    st.query_params[WS_PARAM] = ws_id
    return ws_id


# -- access: owner (password / login when hosting) or a share link -----------------------------

_THROTTLE = Throttle()


def _secrets() -> dict:
    try:
        return st.secrets.to_dict()
    except FileNotFoundError:  # no secrets file: nothing configured
        return {}


def _shared_link() -> ShareLink | None:
    """The share link this session came through (``?ws=<token>``), checked on every run so a
    revoked link stops working on the very next request."""
    store = get_store()
    token = st.query_params.get(WS_PARAM) or ""
    link = store.resolve_share_token(token) if token else None
    if link is None and st.session_state.get("share_token"):
        token = st.session_state["share_token"]
        link = store.resolve_share_token(token)
    if link is not None:
        st.session_state["share_token"] = token
        st.query_params[WS_PARAM] = token
    return link


def _session_id() -> str:
    """A random id kept in the session: the throttle's key when no address is known."""
    if "throttle_session" not in st.session_state:
        st.session_state["throttle_session"] = os.urandom(8).hex()
    return st.session_state["throttle_session"]


def _owner_gate() -> None:
    """Open on a local machine; with a password or OIDC configured, ask for it once a session."""
    secrets = _secrets()
    if oidc_configured(secrets):
        if not st.user.is_logged_in:
            st.title("Customer Journey Analytics")
            st.button("Log in", on_click=st.login, key="oidc_login")
            st.stop()
        return
    expected = expected_password(secrets, os.environ)
    if not expected or st.session_state.get("authenticated"):
        return
    st.title("Customer Journey Analytics")
    given = st.text_input("Password", type="password", key="app_password")
    if st.button("Enter", key="app_enter"):
        # failed attempts slow down their own client; a crowd of them slows wrong guesses only
        client = client_key(st.context.ip_address, dict(st.context.headers or {}),
                            _session_id())
        if _THROTTLE.check(client, given, expected):
            st.session_state["authenticated"] = True
            st.rerun()
        st.error("That password is not right.")
    st.stop()


def page_setup(*, sidebar: bool = True) -> str:
    """Page config, access, the current workspace and the shared sidebar; returns the workspace
    id. A revoked or expired share link gets a page saying so, and nothing else."""
    st.set_page_config(page_title="Customer Journey Analytics", page_icon="🧭", layout="wide",
                       initial_sidebar_state="expanded" if sidebar else "collapsed")
    ws_id = ""
    with guard(stop=True):
        try:
            ws_id = _enter(sidebar)
        except (ShareLinkRevoked, ShareLinkExpired) as exc:
            _link_gone(exc)
    return ws_id


def _enter(sidebar: bool) -> str:
    """The workspace this session opens: the share link's, else the owner's (after the gate)."""
    link = _shared_link()
    if link is None:
        st.session_state.pop("share_role", None)
        _owner_gate()
        ws_id = current_workspace_id()
    else:
        ws_id = link.workspace_id
        st.session_state["share_role"] = link.role
        st.session_state["share_link_id"] = link.id
    st.session_state["workspace_id"] = ws_id
    if sidebar:
        show_sidebar(ws_id)
    return ws_id


def _link_gone(exc: ShareLinkRevoked | ShareLinkExpired) -> None:
    """A revoked or expired share link: a page saying so, and nothing else."""
    st.session_state.pop("share_token", None)
    st.title("This link no longer works")
    st.error(md_escape(exc.message))
    st.caption("Ask the person who shared it for a new link.")
    st.stop()


def flash(message: str) -> None:
    """A success message to show after the rerun that follows a save."""
    st.session_state["flash"] = message


def show_flash() -> None:
    if st.session_state.get("flash"):
        st.success(st.session_state.pop("flash"))


def role() -> str:
    """"owner", or the share link's role ("view" or "edit")."""
    return st.session_state.get("share_role") or "owner"


def can_edit() -> bool:
    return role() in ("owner", "edit")


def workspace_store() -> WorkspaceStore:
    """The store as this session may use it: the whole store for the owner, a handle limited to
    the link's workspace and role otherwise (the store itself refuses a view link's writes)."""
    store = get_store()
    if role() == "owner":
        return store
    return store.for_role(st.session_state["workspace_id"], role(),
                          link_id=st.session_state.get("share_link_id"))


def show_sidebar(ws_id: str) -> None:
    """Workspace switcher (every workspace plus the three industry samples) and table counts."""
    store = workspace_store()
    with st.sidebar:
        if role() == "owner":
            choices = workspace_choices()
            st.session_state["workspace_switcher"] = ws_id
            st.selectbox(
                "Workspace", options=list(choices), format_func=choices.get,
                key="workspace_switcher",
                on_change=lambda: switch_workspace(st.session_state["workspace_switcher"]),
            )
        else:
            st.markdown(f"**{md_escape(store.get_workspace(ws_id).name)}**")
            st.caption("Shared with you: " + ("view only" if role() == "view" else "can edit"))
        st.caption(f"Industry: ISIC {store.get_workspace(ws_id).isic}")
        counts = store.table_counts(ws_id)
        if counts:
            st.markdown("**Tables**")
            for table, rows in counts.items():
                st.text(f"{table}: {rows:,} rows")
        else:
            st.info("No data yet: upload files on the Data page.")


#: presentation mode: no sidebar, header or toolbar; large type (a fixed style, no user text)
_PRESENTATION_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"] {
  display: none !important;
}
.block-container, [data-testid="stMainBlockContainer"] {
  max-width: 100% !important; padding: 1rem 1.5rem !important;
}
html, body, [data-testid="stMarkdownContainer"] p { font-size: 1.35rem; }
</style>
"""


def presentation_style() -> None:
    """Full width, nothing but the map: for a projector, from a bookmarkable URL."""
    st.html(_PRESENTATION_CSS)


def switch_workspace(ws_id: str) -> None:
    st.session_state["workspace_id"] = ws_id
    st.query_params[WS_PARAM] = ws_id


def _unknown(ws_id: str) -> None:
    st.warning(f"There is no workspace {md_escape(repr(ws_id))}; showing the sample workspace "
               "instead.")


def workspace_choices() -> dict[str, str]:
    """id -> label for the switcher: every saved workspace plus the three industry samples."""
    store = get_store()
    labels = {w.id: w.name for w in store.list_workspaces()}
    for isic, name in INDUSTRIES.items():
        labels.setdefault(sample_workspace_id(isic), f"Sample: {name} (ISIC {isic})")
    return labels


# cache_resource, not cache_data: every rerun of the Data page (the Save click, the rerun after
# it) would unpickle a copy of the whole upload (≈ 1.3 s a rerun for a 1M-row CSV). What they
# return is never changed in place (frames are immutable; the page only reads the results).


@st.cache_resource(show_spinner=False, max_entries=32)
def read_upload(key: str, _data: bytes, name: str) -> list[RawTable]:
    """Raw tables of an upload, cached by the content digest ``key``."""
    return read_file(_data, name)


@st.cache_resource(show_spinner=False, max_entries=64)
def load_choice(key: str, _raw: RawTable, table: str, roles: tuple, date_order: str | None,
                scales: tuple = ()) -> TableLoad:
    """A raw table loaded under a choice, cached by digest + choice (``scales``: sorted
    (score role, scale) pairs the user chose)."""
    return load(_raw, Choice(table, dict(roles), date_order, scales=dict(scales)))


# -- data and shared filters -----------------------------------------------------------------


@st.cache_resource(max_entries=8, show_spinner="Loading the workspace…")
def _dataset(ws_id: str, key: str | None, versions: tuple, journey: str) -> tuple[Dataset, str]:
    """The workspace's tables, read once per saved version; frames are never mutated, so they
    are shared rather than copied on every rerun. ``key`` is the content key of the tables
    and journey (their digests kept since each save); None when a table was saved before
    digests were kept, and then the rows are hashed."""
    store = get_store()
    dataset = load_dataset(store, ws_id)
    if key is not None and (tuple(sorted(store.table_versions(ws_id).items())) != versions
                            or store.get_journey(ws_id).to_json() != journey):
        key = None  # saved again while this was read: the key may not be these rows'
    return dataset, key or dataset.digest()


_TABLES_KEY = "tables:"


def content_key(versions: dict[str, str], journey: str) -> str | None:
    """The cache key of a workspace's data: its journey and the content digest of each table
    (see ``Store.table_versions``), so two databases holding the same data share it and
    different data never do; None when a table has no digest kept.

    >>> content_key({"events": "ab12"}, "{}") == content_key({"events": "ab12"}, "{}")
    True
    >>> content_key({"events": UNHASHED + "/x/ws/ds_1/v1/3"}, "{}") is None
    True
    """
    if any(v.startswith(UNHASHED) for v in versions.values()):
        return None
    h = hashlib.blake2b(journey.encode(), digest_size=16)
    for table, digest in sorted(versions.items()):
        h.update(f"\n{table}={digest}".encode())
    return _TABLES_KEY + h.hexdigest()


def data_digest(key: str, data: Dataset) -> str:
    """:meth:`Dataset.digest` of the workspace's dataset whose cache key is ``key`` (what a
    journey map records of the data it was built on): hashed once per key, only where asked."""
    if not key.startswith(_TABLES_KEY):
        return key
    return compute(key, Dataset.digest, data)


def dataset(ws_id: str, *, lake_note: bool = True) -> tuple[Dataset, str]:
    """The workspace's dataset and its content digest (the cache key of everything derived).
    When the workspace's events are in a data lake, a note says this page uses the uploaded
    tables only (the Funnel computes on the lake)."""
    if lake_note:
        lake = event_source(ws_id)
        if lake is not None:
            st.info(f"This workspace's events are read from a data lake "
                    f"({md_escape(lake.spec)}): the **Funnel** computes on them; this page uses "
                    "the uploaded tables only, so its figures leave the lake's events out.",
                    icon="ℹ️")
    store = get_store()
    versions = store.table_versions(ws_id)
    journey = store.get_journey(ws_id).to_json()
    if "events" in versions:
        import_pandas_ahead()
    return _dataset(ws_id, content_key(versions, journey), tuple(sorted(versions.items())),
                    journey)


_pandas_started = threading.Event()


def import_pandas_ahead() -> None:
    """Begin pandas' import on a thread of its own, once per server process: ``st.dataframe``
    needs it at the end of a page's first view (≈ 0.3-0.4 s, holding the GIL), and begun here
    it overlaps the first reading of the tables, which leaves the GIL free (DuckDB, polars)
    and slows by far less than that (≈ 0.05 s at 10M events). numba's start (≈ 0.5 s) is not
    begun here: it costs the read about as much as it saves (measured, issue 14); the page's
    first call starts it, with the facets beside it (:func:`filtered_dataset`). Errors are
    left for the real import."""
    if _pandas_started.is_set():
        return
    _pandas_started.set()
    threading.Thread(target=_import_pandas, name="cjm-pandas", daemon=True).start()


def _import_pandas() -> None:
    with suppress(Exception):
        import pandas  # noqa: F401


@st.cache_resource(max_entries=32)
def _filtered(digest_key: str, filters: Filters, _dataset: Dataset) -> tuple[Dataset, str]:
    if filters.is_empty():
        return _dataset, digest_key
    return filters.apply(_dataset), f"{digest_key}:{filters.to_query()}"


def filter_widgets(data: Dataset, offered: Facets | None = None, *, key: str | None = None
                   ) -> Filters:
    """Period, channel and segment in the sidebar, read from and written to the URL; the
    choices are the dataset's (cached under its ``key`` when given), or ``offered`` (a
    data-lake source's)."""
    if offered is None:
        offered = compute(key, facets, data) if key is not None else facets(data)
    current = Filters.from_query(st.query_params.to_dict())
    helps = {s.name: s.help for s in FILTER_SETTINGS}
    with st.sidebar:
        st.markdown("**Filters**")
        if offered.first_day and offered.last_day:
            lo, hi = offered.first_day, offered.last_day
            start = min(max(current.start or lo, lo), hi)
            end = max(min(current.end or hi, hi), start)
            period = st.date_input("Period", value=(start, end), min_value=lo, max_value=hi,
                                   key="period", help=helps["start"] + "; " + helps["end"])
            start, end = (*period, None, None)[:2] if isinstance(period, tuple) else (None, None)
            start = None if start == lo else start
            end = None if end in (hi, None) else end
        else:
            start = end = None
        channel = st.multiselect("Channel", offered.channels, key="channel", help=helps["channel"],
                                 default=[c for c in current.channel if c in offered.channels])
        segment = st.multiselect("Segment", offered.segments, key="segment", help=helps["segment"],
                                 default=[s for s in current.segment if s in offered.segments])
    chosen = Filters(start, end, tuple(channel), tuple(segment))
    for s in FILTER_SETTINGS:
        st.query_params.pop(s.name, None)
    st.query_params.update(chosen.to_query())
    return chosen


def filtered_dataset(ws_id: str, ahead: Callable[[Dataset], list[Call]] | None = None
                     ) -> tuple[Dataset, str]:
    """The workspace's dataset under the sidebar's filters, and its cache key.

    ``ahead(data)`` names the core calls the page will make on the filtered data (``(fn, *args)``
    tuples, as :func:`compute` takes them): when the URL sets no filter they are started at once,
    side by side with the filters' choices (see :func:`prefetch`). The choices come second,
    beside the page's first call: that call starts numba's loops (≈ 0.5 s in a new process,
    which the page's other calls would wait for), the choices need none."""
    data, key = dataset(ws_id)
    if ahead is not None and Filters.from_query(st.query_params.to_dict()).is_empty():
        calls = ahead(data)
        prefetch(key, [*calls[:1], (facets, data), *calls[1:]])
    return _filtered(key, filter_widgets(data, key=key), data)


def view_key(setting: Setting, *, choices=None, default=DATA_DEFAULT) -> str:
    """The widget key of a page's view setting (its name, also its URL parameter). A widget
    drawn for the first time starts from the URL (a shared link's view), as does one whose value
    the data no longer offer; the widget is then created without a default of its own. A value
    left at a ``default`` that depends on the data (the worst touchpoint) follows it."""
    name, last = setting.name, f"_default_of_{setting.name}"
    if name not in st.session_state or not setting.allows(st.session_state[name], choices):
        st.session_state[name] = setting.read(st.query_params.to_dict(), choices=choices,
                                              default=default)
    elif default is not DATA_DEFAULT and st.session_state[name] == st.session_state.get(last):
        st.session_state[name] = default  # left at a default that depends on the data: follow it
    if default is not DATA_DEFAULT:
        st.session_state[last] = default
    return name


def keep_view(setting: Setting, value, *, default=DATA_DEFAULT) -> None:
    """Write a view setting's value to the URL; its default leaves the parameter out."""
    text = setting.to_text(value, default=default)
    if text is None:
        st.query_params.pop(setting.name, None)
    elif st.query_params.get(setting.name) != text:
        st.query_params[setting.name] = text


def _describe(value: object) -> str:
    if isinstance(value, pl.DataFrame | Dataset):
        return f"<{type(value).__name__}>"
    return repr(value)


@st.cache_resource(max_entries=256, show_spinner=False)
def _compute(name: str, key: str, params: str, _fn, _args: tuple, _kwargs: dict):
    return _fn(*_args, **_kwargs)


def compute(key: str, fn, *args, **kwargs):
    """Call a core function once per data key and arguments, then reuse its result.

    ``key`` names the data (the filtered dataset's digest); frames and datasets among the
    arguments must come from that data, so they are left out of the cache key.
    """
    params = repr(([_describe(a) for a in args], {k: _describe(v) for k, v in kwargs.items()}))
    return _compute(f"{fn.__module__}.{fn.__qualname__}", key, params, fn, args, kwargs)


#: a core call as :func:`compute` takes it: the function, then its positional arguments
Call = tuple


def prefetch(key: str, calls: list[Call]) -> None:
    """Fill :func:`compute`'s cache for several calls side by side (polars releases the GIL, so
    a first view uses both cores; :mod:`cjm_core.parallel` decides how many threads). pandas'
    import, which ``st.dataframe`` needs, was begun before the read
    (:func:`import_pandas_ahead`). Errors are left for the page's own :func:`compute` call of
    the same function, which raises them where the page handles them."""
    ctx = get_script_run_ctx()

    def one(call: Call) -> None:
        if ctx is not None:  # the cache and its spinner belong to this session's run
            add_script_run_ctx(threading.current_thread(), ctx)
        with suppress(Exception):
            compute(key, call[0], *call[1:])

    pmap(one, calls)


# -- events in a data lake (issue 15) ---------------------------------------------------------


def event_source(ws_id: str) -> EventSource | None:
    """The workspace's data-lake source, or None (its events are its uploaded tables)."""
    return workspace_store().get_event_source(ws_id)


@st.cache_resource(max_entries=1, show_spinner="Starting Spark…")
def _spark(master: str):
    """One Spark session per process, started the first time a page needs it."""
    from cjm_core.engine.source import spark_session

    return spark_session(master)


def spark_for(source: EventSource):
    """The Spark session of a source on Spark, None for the local engine."""
    return _spark(source.master) if source.engine == "spark" else None


def source_stamp(source: EventSource) -> str:
    """What changes when a local Parquet source's files change (names, sizes, times), so a
    cached figure is recomputed; other sources rely on the cache's time limit."""
    if source.kind != "parquet" or "://" in source.location:
        return ""
    from cjm_core.engine.cli_support import parquet_files

    try:
        files = parquet_files(source.location)
        return repr([(f, os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in files])
    except (CJMError, OSError):
        return ""


@st.cache_data(max_entries=32, ttl=900, show_spinner="Reading the source…")
def _source_facts(kind: str, location: str, engine: str, master: str, stamp: str):
    from cjm_core.engine.source import describe

    source = EventSource(kind, location, engine, master)
    return describe(source.spec, spark_for(source))


def source_facts(source: EventSource):
    """The source's columns, events count, day range and values (cached by source)."""
    return _source_facts(source.kind, source.location, source.engine, source.master,
                         source_stamp(source))


@st.cache_data(max_entries=64, ttl=900, show_spinner="Computing the funnel…")
def _source_funnel(kind: str, location: str, engine: str, master: str, stamp: str,
                   params: str, _query, _journey, _filters):
    from cjm_core.engine.source import source_funnel as run

    source = EventSource(kind, location, engine, master)
    return run(source.spec, _query, _journey, _filters, spark_for(source), master=master)


def source_funnel(source: EventSource, query, journey, filters: Filters):
    """The funnel of a data-lake source on its engine, cached by source and query (the
    query, the journey and the filters make the key)."""
    params = repr((query, journey.to_json(), filters.to_query()))
    return _source_funnel(source.kind, source.location, source.engine, source.master,
                          source_stamp(source), params, query, journey, filters)


def test_source(source: EventSource):
    """Read a source's schema and events count now, through its engine (not cached)."""
    from cjm_core.engine.source import describe

    spark = spark_for(source)
    with st.spinner(f"Reading {source.spec} on {source.where}…"):
        return describe(source.spec, spark)
