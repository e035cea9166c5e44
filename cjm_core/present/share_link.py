"""A share link as a person passes it on: the whole address (the app's own, taken from the page
the owner is on, or a configured public address) and a QR code to show a room.

>>> share_url("http://localhost:8501/share?x=1", "tok")
'http://localhost:8501/?ws=tok'
"""

from __future__ import annotations

import io
from urllib.parse import urlsplit, urlunsplit

#: where the app answers when nothing better is known (``streamlit run``'s default)
LOCAL_URL = "http://localhost:8501/"


def share_url(page_url: str | None, token: str, public_url: str | None = None) -> str:
    """The link that opens the workspace for ``token``: on ``public_url`` when one is set
    (``CJM_PUBLIC_URL``, for a host behind a proxy), else on the address of the page the owner
    is on, its page name and query dropped (a ``server.baseUrlPath`` prefix kept).

    >>> share_url("https://cjm.example.org/analytics/share", "abc")
    'https://cjm.example.org/analytics/?ws=abc'
    >>> share_url(None, "abc"), share_url("http://x:1/", "abc", "https://pub.example/")
    ('http://localhost:8501/?ws=abc', 'https://pub.example/?ws=abc')
    """
    base = (public_url or page_url or LOCAL_URL).strip()
    parts = urlsplit(base)
    path = parts.path or "/"
    if public_url is None and not path.endswith("/"):
        path = path[: path.rfind("/") + 1]  # the page's own name goes
    if not path.endswith("/"):
        path += "/"
    return urlunsplit((parts.scheme, parts.netloc, path, f"ws={token}", ""))


def qr_png(text: str, *, scale: int = 6) -> bytes:
    """``text`` as a QR code (PNG bytes), for a projector or a phone across the room.

    >>> qr_png("http://localhost:8501/?ws=abc")[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    import segno

    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=scale, border=2)
    return buf.getvalue()
