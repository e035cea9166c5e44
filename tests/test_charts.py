"""Charts as a reader meets them: axes and tooltips in the figure's own unit and words."""

from __future__ import annotations

import polars as pl

from cjm_core.present.charts import interval_chart


def _layers(spec: dict) -> list[dict]:
    return spec["layer"]


def test_interval_chart_axis_reads_percent_and_tooltips_are_titled():
    frame = pl.DataFrame({"touchpoint": ["Installation hotline", "Store checkout"],
                          "value": [0.552, 0.9], "low": [0.49, 0.85], "high": [0.61, 0.94],
                          "n": [252, 1200], "low_sample": [False, False]})
    spec = interval_chart(frame, "touchpoint", target=0.85, title="CSAT").to_dict()
    rules = _layers(spec)[0]
    assert rules["encoding"]["x"]["axis"]["format"] == ".0%"
    assert rules["encoding"]["x"]["title"] == "CSAT"
    titles = [t.get("title") for t in rules["encoding"]["tooltip"]]
    assert titles == ["Touchpoint", "CSAT", "95% interval from", "to", "Answers"]
    # long touchpoint names are not cut at Vega's default 200 px
    assert rules["encoding"]["y"]["axis"]["labelLimit"] == 240
    # the worst touchpoint first
    assert rules["encoding"]["y"]["sort"] == ["Installation hotline", "Store checkout"]


def test_interval_chart_in_another_unit_uses_its_format():
    frame = pl.DataFrame({"stage": ["Support"], "value": [1.9], "low": [1.76], "high": [2.04],
                          "n": [227], "low_sample": [False]})
    spec = interval_chart(frame, "stage", title="CES", value_format=".2f").to_dict()
    assert _layers(spec)[0]["encoding"]["x"]["axis"]["format"] == ".2f"
    assert len(_layers(spec)) == 2  # no target, no target rule
