"""Shared statistics for every rate, score and comparison the dashboard shows (DESIGN §5):
Wilson intervals for rates, the two-proportion z-test and Holm correction for segment
comparisons, t-intervals for mean scores and the NPS interval. Scalar functions plus polars
expression versions for computing many cuts at once."""

from __future__ import annotations

import math
from typing import Any

import polars as pl


def _scipy_stats() -> Any:
    """scipy.stats, imported on first use: it takes ≈ 1 s to import and only t quantiles need
    it (a normal tail is ``math.erfc``)."""
    from scipy import stats

    return stats

#: the 95% normal quantile as DESIGN §5 writes it (±1.96·SE): every interval's default
Z95 = 1.96


def wilson(successes: float, n: float, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson score interval for a proportion ``successes / n``; ``(None, None)`` when n = 0.

    Why Wilson: it stays inside [0, 1] and behaves at small n and at 0 % or 100 %.

    >>> [round(x, 4) for x in wilson(8, 10)]
    [0.4902, 0.9433]
    >>> wilson(0, 0)
    (None, None)
    """
    if n is None or n <= 0 or successes is None:
        return None, None
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # at 0 % and 100 % the bound is exactly 0 or 1; say so rather than trust float rounding
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return low, high


def _expr(column: str | pl.Expr) -> pl.Expr:
    """A column given by name or as an expression."""
    return pl.col(column) if isinstance(column, str) else column


def wilson_expr(successes: str | pl.Expr, n: str | pl.Expr, z: float = Z95
                ) -> tuple[pl.Expr, pl.Expr]:
    """Wilson bounds as two polars expressions (``low``, ``high``); null where n is 0 or null.

    >>> df = pl.DataFrame({"s": [8, 0], "n": [10, 0]})
    >>> lo, hi = wilson_expr("s", "n")
    >>> df.select(lo.round(4), hi.round(4)).rows()
    [(0.4902, 0.9433), (None, None)]
    """
    s = _expr(successes)
    nn = _expr(n)
    nf = nn.cast(pl.Float64)
    p = s.cast(pl.Float64) / nf
    z2 = z * z
    denom = 1 + z2 / nf
    centre = (p + z2 / (2 * nf)) / denom
    half = z * (p * (1 - p) / nf + z2 / (4 * nf * nf)).sqrt() / denom
    ok = nn.is_not_null() & (nn > 0) & s.is_not_null()
    low = (pl.when(~ok).then(None).when(s <= 0).then(0.0)
           .otherwise((centre - half).clip(lower_bound=0.0)).alias("low"))
    high = (pl.when(~ok).then(None).when(s >= nn).then(1.0)
            .otherwise((centre + half).clip(upper_bound=1.0)).alias("high"))
    return low, high


def two_proportion_z(x1: float, n1: float, x2: float, n2: float
                     ) -> tuple[float | None, float | None]:
    """Pooled two-proportion z-test of x1/n1 against x2/n2: ``(z, two-sided p)``.

    ``(None, None)`` when either n is 0; ``(0.0, 1.0)`` when the pooled rate is 0 or 1 (no
    variance: the two rates are equal).

    >>> z, p = two_proportion_z(60, 100, 40, 100)
    >>> round(z, 4), round(p, 4)
    (2.8284, 0.0047)
    """
    if not n1 or not n2 or n1 <= 0 or n2 <= 0:
        return None, None
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if var <= 0:
        return 0.0, 1.0
    z = (p1 - p2) / math.sqrt(var)
    return z, math.erfc(abs(z) / math.sqrt(2))  # 2 × normal tail


def holm(pvalues: list[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p-values, in the input order (None stays None, not counted).

    Adjusted p_(i) = max over j ≤ i of min(1, (m − j + 1) · p_(j)) for the sorted p-values.

    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    >>> holm([None, 0.2])
    [None, 0.2]
    """
    present = [(i, p) for i, p in enumerate(pvalues) if p is not None and not math.isnan(p)]
    order = sorted(present, key=lambda ip: ip[1])
    m = len(order)
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, (i, p) in enumerate(order):
        adj = min(1.0, (m - rank) * p)
        running = max(running, adj)
        out[i] = round(running, 15)
    return out


def t_interval(mean: float | None, sd: float | None, n: int, level: float = 0.95
               ) -> tuple[float | None, float | None]:
    """Student-t interval for a mean: mean ± t_{n−1} · sd/√n; ``(None, None)`` when n < 2.

    >>> [round(x, 3) for x in t_interval(3.0, 1.0, 10)]
    [2.285, 3.715]
    """
    if mean is None or sd is None or n is None or n < 2 or math.isnan(sd):
        return None, None
    half = float(_scipy_stats().t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return mean - half, mean + half


def t_interval_expr(mean: str | pl.Expr, sd: str | pl.Expr, n: str | pl.Expr,
                    level: float = 0.95) -> tuple[pl.Expr, pl.Expr]:
    """t-interval bounds as polars expressions (``low``, ``high``); null where n < 2.

    >>> df = pl.DataFrame({"m": [3.0], "sd": [1.0], "n": [10]})
    >>> lo, hi = t_interval_expr("m", "sd", "n")
    >>> df.select(lo.round(3), hi.round(3)).rows()
    [(2.285, 3.715)]
    """
    m = _expr(mean)
    s = _expr(sd)
    nn = _expr(n)
    q = 0.5 + level / 2
    tq = nn.map_batches(
        lambda ser: pl.Series(_scipy_stats().t.ppf(q, ser.cast(pl.Float64).to_numpy() - 1)
                              ).fill_nan(None),
        return_dtype=pl.Float64)
    half = tq * s / nn.cast(pl.Float64).sqrt()
    ok = nn.is_not_null() & (nn >= 2) & s.is_not_null()
    return (pl.when(ok).then(m - half).otherwise(None).alias("low"),
            pl.when(ok).then(m + half).otherwise(None).alias("high"))


def nps_interval(p: float, d: float, n: int, z: float = Z95
                 ) -> tuple[float | None, float | None]:
    """NPS 95 % interval from promoter share ``p`` and detractor share ``d`` (fractions).

    SE = 100·sqrt((P + D − (P − D)²)/n); interval 100(P − D) ± z·SE, clipped to −100…100.

    >>> [round(x, 2) for x in nps_interval(0.5, 0.2, 100)]
    [14.69, 45.31]
    """
    if n is None or n <= 0:
        return None, None
    nps = 100 * (p - d)
    se = 100 * math.sqrt(max(0.0, p + d - (p - d) ** 2) / n)
    return max(-100.0, nps - z * se), min(100.0, nps + z * se)


def nps_interval_expr(p: str | pl.Expr, d: str | pl.Expr, n: str | pl.Expr, z: float = Z95
                      ) -> tuple[pl.Expr, pl.Expr]:
    """NPS interval bounds as polars expressions (``low``, ``high``); null where n is 0.

    >>> df = pl.DataFrame({"p": [0.5], "d": [0.2], "n": [100]})
    >>> lo, hi = nps_interval_expr("p", "d", "n")
    >>> df.select(lo.round(2), hi.round(2)).rows()
    [(14.69, 45.31)]
    """
    pp = _expr(p)
    dd = _expr(d)
    nn = _expr(n)
    nps = 100 * (pp - dd)
    se = 100 * ((pp + dd - (pp - dd) ** 2).clip(lower_bound=0.0) / nn.cast(pl.Float64)).sqrt()
    ok = nn.is_not_null() & (nn > 0)
    return (pl.when(ok).then((nps - z * se).clip(lower_bound=-100.0)).otherwise(None).alias("low"),
            pl.when(ok).then((nps + z * se).clip(upper_bound=100.0)).otherwise(None).alias("high"))
