"""Share links through the real pages (AppTest): a view link shows the workspace without edit
controls, an edit link can save, a revoked link shows a page saying so."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import ui
from cjm_core.errors import ReadOnlyError
from tests.conftest import ROOT


def open_app(query: dict[str, str] | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def owner(db_path):
    return open_app(page="app_pages/share.py")


def make_link(owner: AppTest, role: str) -> str:
    owner.radio(key="share_role_choice").set_value(role)
    owner.text_input(key="share_label").input(f"{role} for the team")
    owner.button[0].click().run()  # the form's submit button
    assert not owner.exception, owner.exception
    return owner.session_state["new_share_token"]


def test_view_link_opens_the_workspace_read_only(owner):
    token = make_link(owner, "view")
    ws = owner.session_state["workspace_id"]
    viewer = open_app({"ws": token, "channel": "web"}, "app_pages/benchmarks.py")
    assert viewer.session_state["workspace_id"] == ws
    assert viewer.session_state["share_role"] == "view"
    assert viewer.query_params["ws"] in (token, [token])
    assert viewer.sidebar.multiselect(key="channel").value == ["web"]  # the sender's filter
    assert not [b for b in viewer.button if b.key == "save_targets"]
    assert not viewer.sidebar.selectbox  # no workspace switcher: only this workspace
    viewer.switch_page("app_pages/journey_map.py")
    viewer.run()
    assert not [b for b in viewer.button if b.key == "map_save"]
    viewer.switch_page("app_pages/data.py")
    viewer.run()
    assert not viewer.get("file_uploader")
    assert any("read-only" in i.value for i in viewer.info)


def test_the_store_refuses_a_view_links_writes_and_other_workspaces(owner):
    token = make_link(owner, "view")
    store = ui.get_store()
    scoped = store.for_token(token)
    with pytest.raises(ReadOnlyError):
        scoped.save_setting(scoped.workspace_id, "targets", "[]")
    other = store.create_workspace("Other shop", store.get_journey(scoped.workspace_id))
    with pytest.raises(Exception, match="not shared"):
        scoped.load_table(other, "events")


def test_edit_link_can_save_a_map_version(owner):
    token = make_link(owner, "edit")
    editor = open_app({"ws": token}, "app_pages/journey_map.py")
    editor.button(key="map_save").click().run()
    assert not editor.exception, editor.exception
    assert [v.version for v in ui.get_store().map_versions(
        editor.session_state["workspace_id"])] == [1]


def test_revoked_link_shows_the_revoked_page_on_the_next_request(owner):
    token = make_link(owner, "view")
    viewer = open_app({"ws": token})
    assert viewer.session_state["share_role"] == "view"
    link = ui.get_store().share_links(owner.session_state["workspace_id"])[0]
    owner.button(key=f"revoke_{link.id}").click().run()
    viewer.run()
    assert [t.value for t in viewer.title] == ["This link no longer works"]
    assert "revoked" in viewer.error[0].value.lower()


def test_the_new_link_is_shown_whole_with_a_qr_code(owner, monkeypatch):
    monkeypatch.setenv("CJM_PUBLIC_URL", "https://cjm.example.org/analytics/")
    token = make_link(owner, "view")
    shown = [c.value for c in owner.code]
    assert shown == [f"https://cjm.example.org/analytics/?ws={token}"]
    images = owner.get("image")
    assert images and images[0].captions == ["Scan to open"], "no QR code image"
