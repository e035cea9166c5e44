"""A workspace's event source (issue 15): saved, replaced, cleared and checked in the store;
a view link refuses to change it, an edit link may."""

from __future__ import annotations

import pytest

from cjm_core.errors import AccessDenied, ReadOnlyError, StoreError, UsageError
from cjm_core.model.journey import default_journey
from cjm_core.storage.store import EventSource, Store


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "ws.duckdb") as s:
        yield s


@pytest.fixture
def ws(store: Store) -> str:
    return store.create_workspace("Shop", default_journey("4742"))


def test_a_source_is_saved_replaced_and_cleared(store: Store, ws: str):
    assert store.get_event_source(ws) is None
    store.save_event_source(ws, EventSource("parquet", "/lake/events/*.parquet"))
    assert store.get_event_source(ws) == EventSource("parquet", "/lake/events/*.parquet",
                                                     "local", "")
    store.save_event_source(ws, EventSource("delta", " /lake/delta ", "spark", ""))
    got = store.get_event_source(ws)
    assert got == EventSource("delta", "/lake/delta", "spark", "local[2]")
    assert got.spec == "delta:/lake/delta" and got.where == "Spark (local[2])"
    store.delete_event_source(ws)
    assert store.get_event_source(ws) is None
    store.delete_event_source(ws)  # clearing twice is fine


def test_a_source_survives_reopening_and_goes_with_its_workspace(tmp_path):
    path = tmp_path / "ws.duckdb"
    with Store(path) as s:
        ws = s.create_workspace("Shop", default_journey("4742"))
        s.save_event_source(ws, EventSource("table", "sales.events", "spark", "sc://h:15002"))
    with Store(path) as s:
        assert s.get_event_source(ws) == EventSource("table", "sales.events", "spark",
                                                     "sc://h:15002")
        s.delete_workspace(ws)
        again = s.create_workspace("Shop", default_journey("4742"))
        assert again == ws and s.get_event_source(again) is None


@pytest.mark.parametrize(("kind", "location", "engine", "master", "says"), [
    ("csv", "/x", "local", "", "Unknown source kind"),
    ("", "/x", "local", "", "Unknown source kind"),
    ("parquet", "", "local", "", "needs a location"),
    ("parquet", "   ", "spark", "", "needs a location"),
    ("parquet", "/x\n/y", "local", "", "control characters"),
    ("parquet", "/x" * 2000, "local", "", "too long"),
    ("table", "drop table x;", "spark", "", "not a table name"),
    ("parquet", "/x", "dask", "", "Unknown engine"),
    ("delta", "/x", "local", "", "local engine reads Parquet only"),
    ("table", "events", "local", "", "local engine reads Parquet only"),
    ("parquet", "/x", "spark", "http://host", "not a Spark master"),
    ("parquet", "/x", "spark", "local[two]", "not a Spark master"),
])
def test_a_bad_source_is_refused_with_a_clear_message(store: Store, ws: str, kind, location,
                                                       engine, master, says):
    with pytest.raises(UsageError, match=says) as info:
        store.save_event_source(ws, EventSource(kind, location, engine, master))
    assert info.value.code == "bad-argument"
    assert store.get_event_source(ws) is None


@pytest.mark.parametrize("master", ["local", "local[2]", "local[*]", "spark://h:7077", "yarn",
                                    "sc://localhost:15002", "k8s://https://h:443"])
def test_spark_masters_accepted(master):
    assert EventSource.parse("parquet", "/x", "spark", master).master == master


def test_parse_normalises_case_and_spaces():
    got = EventSource.parse(" Parquet ", " /x ", " SPARK ", " ")
    assert got == EventSource("parquet", "/x", "spark", "local[2]")
    assert EventSource.parse("parquet", "/x", "local", "local[4]").master == ""


def test_links_read_it_only_the_owner_changes_it(store: Store, ws: str):
    # an edit link must not point the workspace at any path the server can read
    other = store.create_workspace("Other", default_journey("4742"))
    store.save_event_source(ws, EventSource("parquet", "/lake"))
    view, edit = store.for_role(ws, "view"), store.for_role(ws, "edit")
    assert view.get_event_source(ws) == edit.get_event_source(ws) == EventSource("parquet",
                                                                                 "/lake")
    with pytest.raises(ReadOnlyError):
        view.save_event_source(ws, EventSource("parquet", "/elsewhere"))
    with pytest.raises(ReadOnlyError):
        view.delete_event_source(ws)
    with pytest.raises(AccessDenied, match="owner"):
        edit.save_event_source(ws, EventSource("parquet", "/etc", "spark", "local[2]"))
    with pytest.raises(AccessDenied, match="owner"):
        edit.delete_event_source(ws)
    assert store.get_event_source(ws) == EventSource("parquet", "/lake")
    for handle in (view, edit):
        with pytest.raises(AccessDenied):
            handle.get_event_source(other)
    store.delete_event_source(ws)
    assert store.get_event_source(ws) is None


def test_unknown_workspace(store: Store):
    with pytest.raises(StoreError):
        store.save_event_source("nope", EventSource("parquet", "/x"))
    with pytest.raises(StoreError):
        store.get_event_source("../x")


# -- cjm_core.engine.source: what the app asks of a source -----------------------------------------


def _folder(tmp_path):
    from datetime import datetime

    import polars as pl

    folder = tmp_path / "lake"
    folder.mkdir()
    pl.DataFrame({"customer_id": ["a", "a", "b"],
                  "timestamp": [datetime(2025, 1, 1, 9), datetime(2025, 1, 3),
                                datetime(2025, 2, 1)],
                  "stage": ["Look", "Buy", "Look"], "channel": ["web", "store", None]}
                 ).write_parquet(folder / "p0.parquet")
    pl.DataFrame({"customer_id": ["c"], "timestamp": [datetime(2025, 3, 1)], "stage": ["Look"],
                  "channel": ["web"]}).write_parquet(folder / "p1.parquet")
    return folder


def test_describe_a_parquet_folder_on_the_local_engine(tmp_path):
    from datetime import date

    from cjm_core.engine.source import describe

    facts = describe(f"parquet:{_folder(tmp_path)}")
    assert facts.rows == 4 and not facts.missing()
    assert list(facts.columns) == ["customer_id", "timestamp", "stage", "channel"]
    assert (facts.first_day, facts.last_day) == (date(2025, 1, 1), date(2025, 3, 1))
    assert facts.values == {"stage": ["Buy", "Look"], "channel": ["store", "web"]}
    assert facts.facets().channels == ["store", "web"] and facts.facets().segments == []


def test_source_funnel_on_the_local_engine_applies_the_filters(tmp_path):
    from datetime import date

    from cjm_core.analytics.funnel import FunnelQuery
    from cjm_core.engine.source import source_funnel
    from cjm_core.model.filters import Filters

    spec, query = f"parquet:{_folder(tmp_path)}", FunnelQuery(steps=["Look", "Buy"])
    whole = source_funnel(spec, query, None, Filters())
    assert whole.result.table["reached"].to_list() == [3, 1]
    assert whole.rows == 4 and whole.engine == "the local engine"
    jan = source_funnel(spec, query, None, Filters(end=date(2025, 1, 31)))
    assert jan.result.table["reached"].to_list() == [1, 1] and jan.rows == 2
    web = source_funnel(spec, query, None, Filters(channel=("web",)))
    assert web.result.table["reached"].to_list() == [2, 0]


def test_local_engine_errors_are_messages(tmp_path):
    from cjm_core.engine.source import describe
    from cjm_core.errors import QueryError

    with pytest.raises(QueryError, match="No Parquet file at"):
        describe(f"parquet:{tmp_path / 'nowhere'}")
    with pytest.raises(QueryError, match="local engine reads Parquet only"):
        describe("delta:/x")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.parquet").write_bytes(b"not parquet")
    with pytest.raises(QueryError, match="could not be read"):
        describe(f"parquet:{bad}")


def test_no_java_is_a_message_before_spark_starts(monkeypatch):
    pytest.importorskip("pyspark")
    from cjm_core.engine import source
    from cjm_core.errors import QueryError

    monkeypatch.setattr(source.shutil, "which", lambda *a, **k: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(QueryError, match="needs Java 17") as info:
        source.spark_session("local[2]")
    assert info.value.code == "spark-unavailable"


def test_spark_errors_become_messages_others_pass_through():
    from cjm_core.engine.source import spark_errors
    from cjm_core.errors import QueryError

    class AnalysisException(Exception):
        pass

    AnalysisException.__module__ = "pyspark.errors.exceptions.captured"
    lake = "parquet:/x"
    with pytest.raises(QueryError, match="path does not exist"), spark_errors(lake):
        raise AnalysisException("[PATH_NOT_FOUND] Path does not exist: file:/x.")
    with pytest.raises(QueryError, match="could not read the events: boom"), spark_errors(lake):
        raise AnalysisException("boom\n\tat org.apache...")
    with pytest.raises(KeyError), spark_errors(lake):  # a bug of ours stays a bug
        raise KeyError("x")
    with pytest.raises(QueryError, match="could not start"), spark_errors("Spark", starting=True):
        raise RuntimeError("gateway")
