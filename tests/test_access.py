"""The access gate without Streamlit: password, throttle, OIDC configuration, and exports whose
text cells can never start a spreadsheet formula (property tests)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cjm_core.errors import QueryError
from cjm_core.present.spreadsheet import DANGEROUS_START, neutralise
from cjm_core.storage import access
from cjm_core.storage.access import (
    Throttle,
    check_password,
    expected_password,
    neutralise_cell,
    oidc_configured,
    oidc_providers,
    password_required,
    safe_csv,
    safe_frame,
    safe_xlsx,
)

DANGER = ("=", "+", "-", "−", "@", "\t", "\r")

# -- password --


def test_password_from_env_wins_over_secrets(monkeypatch):
    monkeypatch.setenv("CJM_PASSWORD", "from-env")
    assert expected_password({"password": "from-secrets"}) == "from-env"
    assert password_required()
    monkeypatch.delenv("CJM_PASSWORD")
    assert expected_password({"password": "from-secrets"}) == "from-secrets"
    assert expected_password({}) is None and expected_password(None) is None
    assert expected_password({"password": ""}) is None
    assert not password_required()
    assert password_required("from-secrets")
    monkeypatch.setenv("CJM_PASSWORD", "")
    assert not password_required(None)


def test_check_password_is_exact():
    assert check_password("correct horse", "correct horse")
    for wrong in ("correct hors", "correct horse ", "Correct horse", "", "correct horsé"):
        assert not check_password(wrong, "correct horse")
    assert not check_password("", "")  # an empty password never opens anything
    assert not check_password(b"x", "x")  # type: ignore[arg-type]


def test_check_password_compares_in_constant_time(monkeypatch):
    seen = []
    real = access.hmac.compare_digest

    def spy(a, b):
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(access.hmac, "compare_digest", spy)
    assert check_password("Grüße", "Grüße")
    assert seen == [("Grüße".encode(), "Grüße".encode())]


# -- throttle --


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_throttle_doubles_the_delay_up_to_the_cap():
    clock = FakeClock()
    t = Throttle(clock=clock, sleep=clock.sleep)
    assert t.delay_for("a") == 0.0
    delays = []
    for _ in range(10):
        t.record_failure("a")
        delays.append(t.delay_for("a"))
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]
    assert t.failures("a") == 10
    assert t.delay_for("b") == 0.0  # per key
    clock.now += 12
    assert t.delay_for("a") == 18.0
    t.record_success("a")
    assert t.delay_for("a") == 0.0 and t.failures("a") == 0


def test_attempt_waits_checks_and_records_without_real_sleeping():
    clock = FakeClock()
    t = Throttle(clock=clock, sleep=clock.sleep)
    assert not t.attempt("s", "guess1", "pw")
    assert not t.attempt("s", "guess2", "pw")
    assert clock.slept == [0.5]
    assert not t.attempt("s", "guess3", "pw")
    assert clock.slept == [0.5, 1.0]
    assert t.attempt("s", "pw", "pw")
    assert clock.slept == [0.5, 1.0, 2.0]  # even the right password waits out the delay
    assert t.failures("s") == 0 and t.delay_for("s") == 0.0


def test_throttle_forgets_old_keys_when_full():
    clock = FakeClock()
    t = Throttle(clock=clock, sleep=clock.sleep, max_keys=10, forget_after=60)
    for i in range(10):
        t.record_failure(f"k{i}")
    clock.now += 120
    t.record_failure("new")
    assert t.failures("new") == 1 and t.failures("k0") == 0
    for i in range(50):
        t.record_failure(f"x{i}")
    assert len(t._fails) <= 10


def test_throttle_is_thread_safe():
    clock = FakeClock()
    t = Throttle(clock=clock, sleep=clock.sleep)

    def fail() -> None:
        for _ in range(200):
            t.record_failure("shared")

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert t.failures("shared") == 1600


# -- OIDC --

GOOGLE = {"client_id": "id", "client_secret": "secret",
          "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration"}
SHARED = {"redirect_uri": "https://cjm.example.org/oauth2callback", "cookie_secret": "xyz"}


def test_oidc_default_provider_in_the_auth_section():
    secrets = {"auth": {**SHARED, **GOOGLE}}
    assert oidc_configured(secrets) and oidc_providers(secrets) == ["default"]


def test_oidc_named_providers():
    secrets = {"auth": {**SHARED, "google": GOOGLE, "microsoft": GOOGLE,
                        "broken": {"client_id": "x"}, "bad_name": GOOGLE}}
    assert oidc_providers(secrets) == ["google", "microsoft"]
    assert oidc_providers({"auth": {**SHARED, "default": GOOGLE}}) == ["default"]


@pytest.mark.parametrize("secrets", [
    {}, None, {"password": "x"}, {"auth": "not a table"},
    {"auth": {**GOOGLE}},                                           # no redirect_uri / cookie
    {"auth": {**GOOGLE, "redirect_uri": SHARED["redirect_uri"]}},   # no cookie_secret
    {"auth": {**GOOGLE, **SHARED, "cookie_secret": "  "}},          # blank cookie_secret
    {"auth": {**GOOGLE, **SHARED, "redirect_uri": "https://x.org/callback"}},  # wrong path
    {"auth": {**SHARED}},                                           # no provider at all
    {"auth": {**SHARED, "client_id": "x", "client_secret": "y"}},   # no metadata url
])
def test_oidc_not_configured(secrets):
    assert not oidc_configured(secrets)
    assert oidc_providers(secrets) == []


def test_oidc_reads_streamlit_like_secrets_objects():
    from collections import UserDict

    class AttrDict(UserDict):  # what st.secrets sections are
        pass

    secrets = AttrDict({"auth": AttrDict({**SHARED, "okta": AttrDict(GOOGLE)})})
    assert oidc_providers(secrets) == ["okta"]


# -- neutralised exports --


def test_neutralise_is_the_map_exports_one():
    assert neutralise_cell is neutralise
    assert set(DANGEROUS_START) == set(DANGER)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "−2", "@SUM(A1)", "\tx", "\rx",
                                  "=HYPERLINK(\"http://evil\",\"click\")",
                                  "=cmd|' /C calc'!A0"])
def test_dangerous_cells_get_an_apostrophe(text):
    assert neutralise_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["", "ok", "'=already", " a=b", "Müller", "1-2", "a@b.c"])
def test_harmless_cells_are_unchanged(text):
    assert neutralise_cell(text) == text


def _safe(cell: str) -> bool:
    return not cell.startswith(DANGER)


def _restore(cell: str, original: str) -> str:
    """What a reader gets back: the text after the added apostrophe."""
    return cell[1:] if original.startswith(DANGER) else cell


danger_text = st.one_of(
    st.text(max_size=30),
    st.builds(lambda c, t: c + t, st.sampled_from(DANGER), st.text(max_size=30)),
)


@settings(max_examples=300, deadline=None)
@given(danger_text)
def test_neutralise_property(text):
    out = neutralise_cell(text)
    assert _safe(out)
    assert out in (text, "'" + text)
    assert _restore(out, text) == text
    assert neutralise_cell(out) == out  # idempotent


@settings(max_examples=100, deadline=None)
@given(st.lists(danger_text, min_size=1, max_size=8))
def test_polars_expression_agrees_with_neutralise(texts):
    got = safe_frame(pl.DataFrame({"t": texts})).get_column("t").to_list()
    assert got == [neutralise_cell(t) for t in texts]


@settings(max_examples=80, deadline=None)
@given(st.lists(danger_text, min_size=1, max_size=6), danger_text)
def test_csv_export_cells_are_safe_and_round_trip(texts, header):
    frame = pl.DataFrame({header or "h": texts, "n": list(range(-len(texts), 0))})
    text = safe_csv(frame)
    # read back as a spreadsheet would, with an RFC 4180 reader (polars' own reader unescapes
    # doubled quotes in a header wrongly)
    head, *rows = list(csv.reader(io.StringIO(text, newline="")))
    cells = [row[0] for row in rows]
    assert all(_safe(c) for c in [*cells, head[0]])
    assert [_restore(c, t) for c, t in zip(cells, texts, strict=True)] == texts
    assert _restore(head[0], header or "h") == (header or "h")
    assert [row[1] for row in rows] == [str(n) for n in range(-len(texts), 0)]


@settings(max_examples=40, deadline=None)
@given(st.lists(danger_text, min_size=1, max_size=6))
def test_xlsx_export_cells_are_strings_safe_and_round_trip(texts):
    frame = pl.DataFrame({"label": texts, "n": [float(i) - 2.5 for i in range(len(texts))]})
    back = pl.read_excel(io.BytesIO(safe_xlsx(frame)), infer_schema_length=0)
    got = [c or "" for c in back.get_column("label").to_list()]
    assert all(_safe(c) for c in got)
    assert [_restore(c, t) for c, t in zip(got, texts, strict=True)] == texts


def test_xlsx_writes_strings_as_strings_never_formulas_or_links():
    import zipfile

    frame = pl.DataFrame({
        "=label": ["=1+1", "http://example.org", "123", "@x", "plain"],
        "n": [1, -2, 3, 4, 5],
        "big": [2**60, 1, 2, 3, 4],
        "when": [dt.date(2026, 1, 1)] * 5,
        "flag": [True, False, None, True, False],
        "cat": pl.Series(["-a", "b", "c", "d", "+e"], dtype=pl.Categorical),
    })
    data = safe_xlsx(frame)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        shared = z.read("xl/sharedStrings.xml").decode()
        names = z.namelist()
    assert "<f>" not in sheet  # no formula cells
    assert not any("hyperlink" in n.lower() for n in names) and "hyperlink" not in sheet
    for text in ("'=label", "'=1+1", "http://example.org", "123", "'@x", "'-a", "'+e",
                 str(2**60)):
        assert f">{text}<" in shared
    back = pl.read_excel(io.BytesIO(data))
    assert back.columns == ["'=label", "n", "big", "when", "flag", "cat"]
    assert back.get_column("n").to_list() == [1, -2, 3, 4, 5]
    assert back.get_column("'=label")[2] == "123"
    assert back.get_column("when").dtype in (pl.Date, pl.Datetime)


def test_csv_keeps_numbers_dates_and_nulls():
    frame = pl.DataFrame({"a": ["x", None], "n": [-1.5, None],
                          "d": [dt.date(2026, 3, 1), None]})
    assert safe_csv(frame) == "a,n,d\nx,-1.5,2026-03-01\n,,\n"


def test_csv_of_nested_and_categorical_columns_is_neutralised():
    frame = pl.DataFrame({"l": [["=a", "b"], None],
                          "c": pl.Series(["=x", "y"], dtype=pl.Categorical)})
    back = pl.read_csv(io.StringIO(safe_csv(frame)), infer_schema=False)
    assert back.get_column("c").to_list() == ["'=x", "y"]
    assert back.get_column("l").to_list() == ['["=a", "b"]', None]


def test_xlsx_too_large_is_a_clear_error():
    with pytest.raises(QueryError, match="export CSV"):
        safe_xlsx(pl.DataFrame({f"c{i}": [1] for i in range(16_385)}))


def test_empty_frames_export():
    assert safe_csv(pl.DataFrame()) == ""
    assert safe_csv(pl.DataFrame({"=a": pl.Series([], dtype=pl.String)})) == "'=a\n"
    assert safe_xlsx(pl.DataFrame({"a": []}))[:2] == b"PK"


def test_a_crowd_of_guessers_slows_wrong_guesses_but_never_a_login():
    from cjm_core.storage.access import GLOBAL_EVERY

    now, slept = [0.0], []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    t = Throttle(clock=lambda: now[0], sleep=sleep)
    for i in range(3 * GLOBAL_EVERY):  # every guess from a new address: no client penalty
        assert not t.check(f"ip:10.0.0.{i}", "guess", "pw")
    assert slept and slept[-1] > slept[0]  # the crowd's wrong guesses wait longer and longer
    slept.clear()
    assert not t.check("ip:10.9.9.9", "guess", "pw") and slept  # a new guesser waits too
    slept.clear()
    assert t.check("ip:192.0.2.1", "pw", "pw") and slept == []  # a login never does


def test_client_key_prefers_the_proxy_forwarded_address():
    from cjm_core.storage.access import client_key

    assert client_key("127.0.0.1", {"X-Real-IP": "198.51.100.4"}, "s") == "ip:198.51.100.4"
    assert client_key("127.0.0.1", {"x-forwarded-for": " 198.51.100.5 ,10.0.0.1"}, "s") == \
        "ip:198.51.100.5"
    assert client_key("", {}, "abc") == "session:abc"
