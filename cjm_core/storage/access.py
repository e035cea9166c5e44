"""Access to the app (DESIGN §8, §10), without Streamlit: the password gate, its throttle after
failed attempts and whether OIDC login (``st.login``) is configured. The spreadsheet exports
that cannot smuggle a formula into Excel live in :mod:`cjm_core.present.spreadsheet` (re-exported
here).

The app stays open on a local machine. When hosted, it asks for a password if ``$CJM_PASSWORD``
is set or the secrets hold ``password``; or, when the secrets have a complete ``[auth]`` section,
it offers Streamlit's OIDC login. :func:`expected_password` and :func:`oidc_providers` tell the
app which; :func:`check_password` and :class:`Throttle` do the checking.

>>> check_password("s3cret", "s3cret"), check_password("guess", "s3cret")
(True, False)
"""

from __future__ import annotations

import hmac
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cjm_core.present.spreadsheet import neutralise as neutralise_cell
from cjm_core.present.spreadsheet import safe_csv, safe_frame, safe_xlsx

__all__ = [
    "PASSWORD_ENV",
    "Throttle",
    "check_password",
    "client_key",
    "expected_password",
    "neutralise_cell",
    "oidc_configured",
    "oidc_providers",
    "password_required",
    "safe_csv",
    "safe_frame",
    "safe_xlsx",
]

PASSWORD_ENV = "CJM_PASSWORD"
#: the key under which every client's failed logins also count (:meth:`Throttle.check`)
GLOBAL_KEY = "*"
#: failed logins of all clients together per doubling of the delay after a wrong password
GLOBAL_EVERY = 10
#: the keys Streamlit's st.login needs for every provider, and in ``[auth]`` itself
OIDC_SHARED_KEYS = ("redirect_uri", "cookie_secret")
OIDC_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


# -- password -----------------------------------------------------------------------------------


def expected_password(secrets: Mapping[str, Any] | None = None,
                      env: Mapping[str, str] | None = None) -> str | None:
    """The app's password: ``$CJM_PASSWORD`` if set, else ``password`` from the secrets; None
    when neither is set (the app is open).

    >>> expected_password({"password": "pw"}, env={}), expected_password({}, env={})
    ('pw', None)
    >>> expected_password({"password": "pw"}, env={"CJM_PASSWORD": "env wins"})
    'env wins'
    """
    env = os.environ if env is None else env
    from_env = env.get(PASSWORD_ENV, "")
    if from_env:
        return from_env
    value = _get(secrets, "password")
    return value if isinstance(value, str) and value else None


def password_required(secret: str | None = None, *, env: Mapping[str, str] | None = None) -> bool:
    """Whether the app asks for a password: ``$CJM_PASSWORD`` is set or a secret is passed in.

    >>> password_required(env={}), password_required("pw", env={})
    (False, True)
    """
    env = os.environ if env is None else env
    return bool(env.get(PASSWORD_ENV, "")) or bool(secret)


def check_password(given: str, expected: str) -> bool:
    """Compare a typed password with the expected one in constant time (on UTF-8 bytes, so any
    text works); an empty expected password never matches.

    >>> check_password("Grüße", "Grüße"), check_password("", ""), check_password(None, "x")
    (True, False, False)
    """
    if not isinstance(given, str) or not isinstance(expected, str) or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


@dataclass
class _Fails:
    count: int
    last: float


class Throttle:
    """Slows down password guessing: after the n-th failed attempt for a key (a session, a
    client address, or one key for the whole app) the next attempt waits
    ``base × 2^(n−1)`` seconds, capped at ``cap``; a success clears the key.

    ``clock`` and ``sleep`` are injectable so tests never sleep. Thread-safe. Keys not seen for
    ``forget_after`` seconds are dropped so the table cannot grow without bound.

    >>> now = [0.0]
    >>> t = Throttle(clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    >>> t.record_failure("s"); t.record_failure("s"); t.delay_for("s")
    1.0
    >>> t.wait("s"); t.delay_for("s")
    1.0
    0.0
    """

    def __init__(self, *, base: float = 0.5, cap: float = 30.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 forget_after: float = 3600.0, max_keys: int = 100_000) -> None:
        self.base, self.cap = float(base), float(cap)
        self._clock, self._sleep = clock, sleep
        self.forget_after, self.max_keys = float(forget_after), int(max_keys)
        self._fails: dict[str, _Fails] = {}
        self._lock = threading.Lock()

    def penalty(self, failures: int) -> float:
        """The wait after ``failures`` failed attempts in a row.

        >>> [Throttle().penalty(n) for n in (0, 1, 2, 3, 8)]
        [0.0, 0.5, 1.0, 2.0, 30.0]
        """
        if failures <= 0:
            return 0.0
        return min(self.cap, self.base * 2.0 ** min(failures - 1, 64))

    def failures(self, key: str) -> int:
        """Failed attempts in a row for ``key``."""
        with self._lock:
            entry = self._fails.get(key)
            return entry.count if entry else 0

    def delay_for(self, key: str) -> float:
        """Seconds ``key`` must still wait before its next attempt (0 when it may try now)."""
        with self._lock:
            entry = self._fails.get(key)
            if entry is None:
                return 0.0
            left = entry.last + self.penalty(entry.count) - self._clock()
            return max(0.0, left)

    def wait(self, key: str) -> float:
        """Sleep until ``key`` may try again; returns the seconds slept."""
        delay = self.delay_for(key)
        if delay > 0:
            self._sleep(delay)
        return delay

    def record_failure(self, key: str) -> None:
        """Count one failed attempt for ``key``."""
        now = self._clock()
        with self._lock:
            entry = self._fails.get(key)
            if entry is None:
                if len(self._fails) >= self.max_keys:
                    self._forget(now)
                self._fails[key] = _Fails(1, now)
            else:
                entry.count += 1
                entry.last = now

    def record_success(self, key: str) -> None:
        """Clear ``key`` after a correct password."""
        with self._lock:
            self._fails.pop(key, None)

    def attempt(self, key: str, given: str, expected: str) -> bool:
        """Wait out ``key``'s delay, check the password, and record the outcome."""
        self.wait(key)
        ok = check_password(given, expected)
        if ok:
            self.record_success(key)
        else:
            self.record_failure(key)
        return ok

    def check(self, client: str, given: str, expected: str) -> bool:
        """A login attempt by ``client`` (an address or a session): only the client's own
        failures delay it, before the check; a correct password is never delayed by anyone
        else's failures. Failures of all clients together also count under one global key,
        whose delay (``GLOBAL_EVERY`` failures per doubling) is served after a *wrong*
        password only: a crowd of guessers slows every guess, never a login.

        >>> now = [0.0]
        >>> t = Throttle(clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
        >>> [t.check("attacker", "guess", "pw") for _ in range(5)]
        [False, False, False, False, False]
        >>> t.delay_for("attacker") > 0, t.delay_for("colleague")
        (True, 0.0)
        >>> before = now[0]; t.check("colleague", "pw", "pw"), now[0] - before
        (True, 0.0)
        """
        self.wait(client)
        if check_password(given, expected):
            self.record_success(client)
            return True
        self.record_failure(client)
        self.record_failure(GLOBAL_KEY)
        crowd = self.failures(GLOBAL_KEY) // GLOBAL_EVERY
        if crowd:
            self._sleep(self.penalty(crowd))
        return False

    def _forget(self, now: float) -> None:
        stale = [k for k, e in self._fails.items() if now - e.last > self.forget_after]
        for key in stale:
            del self._fails[key]
        if len(self._fails) >= self.max_keys:  # still full: drop the oldest half
            by_age = sorted(self._fails, key=lambda k: self._fails[k].last)
            for key in by_age[: len(by_age) // 2 + 1]:
                del self._fails[key]


def client_key(ip: str | None, headers: Mapping[str, str] | None, session: str) -> str:
    """Whom a login attempt is from: the address a reverse proxy forwarded (X-Real-IP, else
    the first X-Forwarded-For), else the connection's address, else the session. A spoofed
    header only gives a guesser a fresh key, which the global count in
    :meth:`Throttle.check` still catches.

    >>> client_key("10.0.0.2", {"X-Forwarded-For": "203.0.113.7, 10.0.0.2"}, "s1")
    'ip:203.0.113.7'
    >>> client_key(None, {}, "s1"), client_key("127.0.0.1", None, "s1")
    ('session:s1', 'ip:127.0.0.1')
    """
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    forwarded = (lowered.get("x-real-ip") or lowered.get("x-forwarded-for", "")
                 .split(",")[0]).strip()
    address = forwarded or (ip or "").strip()
    return f"ip:{address}" if address else f"session:{session}"


# -- OIDC (st.login) ----------------------------------------------------------------------------


def _get(mapping: Any, key: str) -> Any:
    if mapping is None:
        return None
    try:
        return mapping.get(key) if hasattr(mapping, "get") else mapping[key]
    except (KeyError, TypeError, AttributeError, FileNotFoundError):
        return None


def _filled(section: Any, keys: tuple[str, ...]) -> bool:
    return all(isinstance(_get(section, k), str) and _get(section, k).strip() for k in keys)


def oidc_providers(secrets: Mapping[str, Any] | None) -> list[str]:
    """The OIDC providers ``st.login`` can use with these secrets: ``["default"]`` when
    ``[auth]`` itself has the client settings (call ``st.login()``), else the names of the
    ``[auth.<name>]`` sections that do (call ``st.login(name)``); ``[]`` when login is not
    configured.

    As Streamlit 1.67 checks: ``[auth]`` needs ``redirect_uri`` (ending in
    ``/oauth2callback``) and ``cookie_secret``; a provider needs ``client_id``,
    ``client_secret`` and ``server_metadata_url``; a provider name has no underscore.

    >>> auth = {"redirect_uri": "https://x.org/oauth2callback", "cookie_secret": "s",
    ...         "google": {"client_id": "i", "client_secret": "c",
    ...                    "server_metadata_url": "https://accounts.google.com/.well-known/x"}}
    >>> oidc_providers({"auth": auth}), oidc_providers({"auth": {**auth, "cookie_secret": ""}})
    (['google'], [])
    """
    auth = _get(secrets, "auth")
    if auth is None or not hasattr(auth, "keys") or not _filled(auth, OIDC_SHARED_KEYS):
        return []
    if not str(_get(auth, "redirect_uri")).rstrip().endswith("/oauth2callback"):
        return []
    found = []
    for name in auth:
        section = _get(auth, name)
        if (isinstance(name, str) and "_" not in name and hasattr(section, "keys")
                and _filled(section, OIDC_PROVIDER_KEYS)):
            found.append(name)
    if "default" not in found and _filled(auth, OIDC_PROVIDER_KEYS):
        found.insert(0, "default")  # st.login() builds the default provider from [auth]
    return found


def oidc_configured(secrets: Mapping[str, Any] | None) -> bool:
    """Whether the secrets configure Streamlit's OIDC login completely enough for ``st.login``
    (see :func:`oidc_providers`). Streamlit also needs the ``Authlib`` package installed.

    >>> oidc_configured({}), oidc_configured({"auth": {"redirect_uri": "x"}})
    (False, False)
    """
    return bool(oidc_providers(secrets))
