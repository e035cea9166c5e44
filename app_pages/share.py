"""Share: links that open this workspace for colleagues, read-only or with edit rights; the active
links with who made them and when; revoke and rotate."""

from __future__ import annotations

import os
from datetime import UTC, datetime, time, timedelta

import polars as pl
import streamlit as st

import ui
from cjm_core.present.share_link import qr_png, share_url

ws_id = ui.page_setup()
st.title("Share")
if ui.role() != "owner":
    st.info("Only the workspace's owner manages its share links.")
    st.stop()
store = ui.get_store()

st.caption("A link opens this workspace (and the page, filters and view in the link) in any "
           "browser, without the app's password. Anyone holding the link can use it until it "
           "is revoked or expires; it is shown once, and only a hash of it is kept.")

with st.form("new_link", border=True):
    a, b, c, d = st.columns([1, 2, 2, 2])
    role = a.radio("Role", ["view", "edit"], key="share_role_choice",
                   format_func={"view": "view only", "edit": "can edit"}.get)
    label = b.text_input("Label (who it is for)", key="share_label")
    who = c.text_input("Made by", key="share_created_by")
    expires = d.date_input("Expires (optional)", value=None, key="share_expires",
                           min_value=datetime.now(UTC).date() + timedelta(days=1))
    if st.form_submit_button("Create link", type="primary"):
        with ui.guard():
            until = datetime.combine(expires, time(0, 0), tzinfo=UTC) if expires else None
            token, link = store.create_share_link(ws_id, role, created_by=who, label=label,
                                                  expires_at=until)
            st.session_state["new_share_token"] = token
if st.session_state.get("new_share_token"):
    url = share_url(st.context.url, st.session_state["new_share_token"],
                    os.environ.get("CJM_PUBLIC_URL") or None)
    st.success("Copy this link now (the button at the right of the box); it will not be shown "
               "again.")
    left, right = st.columns([3, 1])
    left.code(url, language=None)
    left.caption("Any page path works before the ?ws=…, and filters can follow with &. Behind "
                 "a proxy, set CJM_PUBLIC_URL to the public address.")
    right.image(qr_png(url), caption="Scan to open", width=180)

links = store.share_links(ws_id)
st.subheader("Active links")
if not links:
    st.info("No active links.")
for link in links:
    with st.container(border=True):
        x, y, z = st.columns([4, 1, 1])
        until = f" · expires {link.expires_at:%Y-%m-%d}" if link.expires_at else ""
        x.text(f"{link.role} · {link.label or 'no label'} · made by {link.created_by or '—'} "
               f"on {link.created_at:%Y-%m-%d %H:%M} UTC{until}")
        if y.button("Revoke", key=f"revoke_{link.id}"):
            store.revoke_share_link(link.id, workspace_id=ws_id)
            st.rerun()
        if z.button("Rotate", key=f"rotate_{link.id}",
                    help="Revoke this link and make a new one with the same role and expiry"):
            st.session_state["new_share_token"] = store.rotate_share_link(link.id,
                                                                          workspace_id=ws_id)
            st.rerun()

revoked = [lk for lk in store.share_links(ws_id, active_only=False) if not lk.active]
if revoked:
    with st.expander(f"Revoked or expired links ({len(revoked)})"):
        st.dataframe(pl.DataFrame([{"role": lk.role, "label": lk.label,
                                    "made by": lk.created_by, "created": lk.created_at,
                                    "revoked": lk.revoked_at, "expires": lk.expires_at}
                                   for lk in revoked]), hide_index=True)
