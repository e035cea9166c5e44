"""``ui.guard()``: the one place a page turns a core error into a message (issue 12 §3)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _page(stop: bool, error: str) -> None:
    import streamlit as st

    import ui
    from cjm_core.errors import CJMError

    with ui.guard(stop=stop) as g:
        st.text("before")
        if error == "cjm":
            raise CJMError("Column *amount* is missing")
        if error == "bug":
            raise RuntimeError("a bug")
        st.text("inside, no error")
    st.text(f"after, failed={g.failed}")


def _run(stop: bool, error: str) -> AppTest:
    at = AppTest.from_function(_page, kwargs={"stop": stop, "error": error}, default_timeout=30)
    return at.run()


def test_a_core_error_is_shown_escaped_and_the_page_goes_on():
    at = _run(False, "cjm")
    assert [e.value for e in at.error] == [r"Column \*amount\* is missing"]
    assert [t.value for t in at.text] == ["before", "after, failed=True"]
    assert not at.exception


def test_with_stop_the_page_ends_at_the_error():
    at = _run(True, "cjm")
    assert len(at.error) == 1
    assert [t.value for t in at.text] == ["before"]


def test_no_error_runs_the_whole_block():
    at = _run(True, "")
    assert not at.error
    assert [t.value for t in at.text] == ["before", "inside, no error", "after, failed=False"]


def test_anything_but_a_core_error_propagates():
    at = _run(False, "bug")
    assert at.exception and "a bug" in at.exception[0].message
    assert not at.error
