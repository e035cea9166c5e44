"""A compiled scan of a text upload's bytes: does any cell start or end with whitespace?

The reader strips every cell (``" Store "`` and ``"Store"`` are one touchpoint). Stripping a
million-row file costs as much as reading it, and most exports have nothing to strip. This scan
answers, in one pass over the bytes at memory speed, whether some cell *may* have whitespace at
an edge; when it says no, the reader skips the strip and gets exactly the cells the strip would
have given.

It also says whether the text holds a double quote at all (quoted cells may hold line breaks,
which shift row numbers), so the reader need not look for one in a second pass.

It errs one way only: it may say "maybe" for a clean file (a quote next to a space inside a
cell, a blank line in a CRLF file, a cell starting with an en dash), never "clean" for a file
with a cell to strip. What it looks for, at every boundary between two bytes:

- ASCII whitespace (space, tab, CR, vertical tab, form feed; not the delimiter itself) next to a
  delimiter, a line end or a quote (a CR right before LF is a line end, not whitespace); a
  tab-separated file with quotes is never called clean (a quoted tab at a cell's edge and the
  tab between two quoted cells look alike to a byte scan);
- the UTF-8 bytes of a Unicode whitespace character (NBSP, NEL, U+1680, U+2000-U+200A, U+2028,
  U+2029, U+202F, U+205F, U+3000: everything ``str.strip_chars`` strips) next to the same.

>>> scan_cells(b"id,stage\\nC1,Kauf\\n", ","), scan_cells(b"id,stage\\nC1, Kauf\\n", ",")
((False, False), (True, False))
>>> nbsp, crlf = "a;b\\r\\nx\\u00a0;y\\r\\n".encode(), b"a;b\\r\\nx;y\\r\\n"
>>> scan_cells(nbsp, ";")[0], scan_cells(crlf, ";")[0]
(True, False)
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba as nb
import numpy as np

_SP, _TAB, _VT, _FF = np.uint8(32), np.uint8(9), np.uint8(11), np.uint8(12)
_NL, _CR, _QT, _NUL = np.uint8(10), np.uint8(13), np.uint8(34), np.uint8(0)
_ONE = np.uint64(1)
#: bytes of UTF-8 whitespace characters
_7F = np.uint8(0x7F)
_80 = np.uint8(0x80)
_81 = np.uint8(0x81)
_85 = np.uint8(0x85)
_8A = np.uint8(0x8A)
_9A = np.uint8(0x9A)
_9F = np.uint8(0x9F)
_A0 = np.uint8(0xA0)
_A8 = np.uint8(0xA8)
_A9 = np.uint8(0xA9)
_AF = np.uint8(0xAF)
_C2 = np.uint8(0xC2)
_E1 = np.uint8(0xE1)
_E2 = np.uint8(0xE2)
_E3 = np.uint8(0xE3)
_TWO = np.uint64(2)
#: below this many bytes one thread scans the whole file
_SPLIT_BYTES = 4 << 20
#: bytes per block: the scan stops at the first block with a hit
_BLOCK = np.uint64(1 << 16)


@nb.njit(cache=True, nogil=True, boundscheck=False)
def _coarse_block(a, lo, hi, sep, qt):  # pragma: no cover - compiled
    """Whether ASCII whitespace or any non-ASCII byte touches a delimiter, line end or quote at
    the boundaries after byte i, i in [lo, hi), or byte i is ``qt``. Needs hi <= n - 1.

    Written branch-free, on unsigned indices and uint8 constants, with one accumulator: so LLVM
    vectorises it (a second accumulator, a ``>=`` beside the ``==`` tests or a ``~`` on a bool
    stops that: 3x slower).
    """
    hit = False
    for i in range(lo, hi):
        x = a[i]
        y = a[i + _ONE]
        sep_x = (x == sep) | (x == _NL) | (x == _CR) | (x == _QT)
        sep_y = (y == sep) | (y == _NL) | (y == _CR) | (y == _QT)
        # non-ASCII bytes count as whitespace here: the exact scan sorts them out
        ws_x = ((x == _SP) | (x == _TAB) | (x == _VT) | (x == _FF) | (x == _CR) | (x > _7F)
                ) & (x != sep)
        ws_y = ((y == _SP) | (y == _TAB) | (y == _VT) | (y == _FF) | (y == _CR) | (y > _7F)
                ) & (y != sep)
        not_line_end = (x != _CR) | (y != _NL)
        hit |= (ws_x & sep_y & not_line_end) | (sep_x & ws_y) | (x == qt)
    return hit


@nb.njit(cache=True, nogil=True, boundscheck=False)
def _exact_block(a, lo, hi, sep):  # pragma: no cover - compiled
    """Whether ASCII whitespace or the UTF-8 bytes of a Unicode space touch a delimiter, line
    end or quote at the boundaries after byte i, i in [lo, hi). Needs 1 <= lo, hi <= n - 2.

    Exact, and about 3x slower than :func:`_coarse_block`: run only on blocks that one flags.
    """
    acc = False
    for i in range(lo, hi):
        p = a[i - _ONE]
        x = a[i]
        y = a[i + _ONE]
        z = a[i + _TWO]
        sep_x = (x == sep) | (x == _NL) | (x == _CR) | (x == _QT)
        sep_y = (y == sep) | (y == _NL) | (y == _CR) | (y == _QT)
        # the last byte of a Unicode space: C2 85, C2 A0, E1 9A 80, E2 80 80-8A/A8/A9/AF,
        # E2 81 9F, E3 80 80
        uni_end = (
            ((p == _C2) & ((x == _85) | (x == _A0)))
            | ((p == _9A) & (x == _80))
            | ((p == _80) & (((x >= _80) & (x <= _8A)) | (x == _A8) | (x == _A9)
                             | (x == _AF)))
            | ((p == _81) & (x == _9F))
        )
        uni_start = (
            ((y == _C2) & ((z == _85) | (z == _A0)))
            | ((y == _E1) & (z == _9A))
            | ((y == _E2) & ((z == _80) | (z == _81)))
            | ((y == _E3) & (z == _80))
        )
        ws_x = ((x == _SP) | (x == _TAB) | (x == _VT) | (x == _FF) | (x == _CR)) & (x != sep)
        ws_y = ((y == _SP) | (y == _TAB) | (y == _VT) | (y == _FF) | (y == _CR)) & (y != sep)
        not_line_end = (x != _CR) | (y != _NL)
        acc |= ((ws_x | uni_end) & sep_y & not_line_end) | (sep_x & (ws_y | uni_start))
    return acc


@nb.njit(cache=True, nogil=True, boundscheck=False)
def _any_quote(a, lo, hi):  # pragma: no cover - compiled
    found = False
    for i in range(lo, hi):
        found |= a[i] == _QT
    return found


@nb.njit(cache=True, nogil=True)
def _scan(a, lo, hi, sep):  # pragma: no cover - compiled
    """Over the boundaries [lo, hi): 1 when a cell has whitespace at an edge, else 2 when some
    byte is a quote, else 0. Each block is scanned coarsely (looking for quotes too until one
    is found), and exactly only when the coarse scan flags it."""
    start = lo
    quote = False
    while start < hi:
        stop = min(start + _BLOCK, hi)
        if _coarse_block(a, start, stop, sep, _NUL if quote else _QT):
            if _exact_block(a, start, stop, sep):
                return 1
            quote = quote or _any_quote(a, start, stop)
        start = stop
    return 2 if quote else 0


def scan_cells(body: bytes, delimiter: str, start: int = 0) -> tuple[bool, bool]:
    """(edge space, quotes) for ``body[start:]`` (UTF-8, ``delimiter``-separated): whether some
    cell may start or end with whitespace (False means certainly not), and whether the text
    holds a double quote.

    >>> scan_cells(b"a,b\\n", ","), scan_cells(b" a,b\\n", ","), scan_cells(b'a,"b "\\n', ",")
    ((False, False), (True, False), (True, True))
    >>> scan_cells(b'"a","b"\\n', ";")
    (False, True)
    """
    sep = np.uint8(ord(delimiter))
    a = np.frombuffer(body, dtype=np.uint8)[start:]
    n = a.size
    if n < 8:
        codes = [_small(bytes(a), sep)]
    else:
        # the first and last boundaries (and the virtual ones before the first byte and after
        # the last) are scanned on small copies with line ends around them
        codes = [_small(b"\n\n" + bytes(a[:6]), sep, 1, 3),
                 _small(bytes(a[-6:]) + b"\n\n", sep, 4, 6)]
        lo, hi = np.uint64(1), np.uint64(n - 2)
        if n < _SPLIT_BYTES:
            codes.append(_scan(a, lo, hi, sep))
        else:
            mid = np.uint64(n // 2)
            with ThreadPoolExecutor(max_workers=2) as pool:
                halves = [pool.submit(_scan, a, lo, mid, sep), pool.submit(_scan, a, mid, hi, sep)]
                codes += [h.result() for h in halves]
    if 1 in codes:  # the scan stopped early: it may not have met a quote yet
        return True, b'"' in body
    quote = 2 in codes
    # a tab inside quotes at a cell's edge looks like the tab between two quoted cells; telling
    # them apart takes a parser, so a quoted tab-separated file is never called clean
    return quote and delimiter.isspace(), quote


def _small(data: bytes, sep: np.uint8, lo: int | None = None, hi: int | None = None) -> int:
    """The scan over a few bytes; without ``lo``/``hi`` the bytes are padded with line ends."""
    if lo is None:
        data = b"\n\n" + data + b"\n\n"
        lo, hi = 1, len(data) - 2
    a = np.frombuffer(data, dtype=np.uint8)
    return int(_scan(a, np.uint64(lo), np.uint64(hi), sep))
