"""Placeholder until the page lands."""

import streamlit as st

import ui

ui.page_setup()
st.title("benchmarks")
