"""Hostile input never crashes a page, and a refused form writes nothing.

Every URL of the access matrix (``tests/access/test_access_matrix.py``, the one inventory of
the site's URLs) is read by a persona who may see it — each in turn, so that every persona
takes part — and its forms are parsed from the HTML. Then:

- the page is read again with the pen-test's ``page=2**63&next=abc&service=abc``, then with
  each query parameter its forms declare, the parameters already in its URL, and ``page``,
  ``next`` and ``service``, one at a time, set to a hostile value;
- another persona (logged out, an outsider, a role that may not) reads it with hostile
  ``page``, ``next`` and ``service``;
- its integer path arguments are replaced by 2**63 (past PostgreSQL's bigint);
- each form it shows (each form once or twice across the site: the organisation switcher of
  the header is the same everywhere) is posted with one field hostile, then with every
  field hostile. When the answer is a refusal (4xx, or the form shown again with 200), no
  table may have gained or lost a row (the audit log's read lines, the session and the
  login attempts' counters excepted).

Any 5xx fails the test with the URL, persona, parameter and value. Values and personas are
chosen by a fixed seed, so that the run stays within a minute on one worker and fails the
same way twice; the number of requests made is printed.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import cycle
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.db import connection
from django.forms import BaseForm
from django.test import Client
from django.urls import Resolver404, resolve

from binome.api.actions import create_token
from binome.referrals.demo import load_demo_referrals
from binome.site.demo import demo_organisations, load_demo_directory
from tests.access.test_access_matrix import MATRIX, PERSONAS
from tests.conftest import login_as

SEED = 13
BIGINT_PAST = 2**63

NEXT_VALUES = [
    "abc",
    "//evil.example",
    "https://evil.example",
    "/\\evil",
    "javascript:alert(1)",
]
HOSTILE = [
    "\x00",
    "x" * 100_000,
    "😀👩🏽‍⚕️🏳️‍🌈",
    "\u202egpj.exe",
    "a\r\nSet-Cookie: x=1",
    "' OR 1=1 --",
    "!():&|*",
    "2026-02-31",
    "31/02/2026",
    str(BIGINT_PAST),
    str(-BIGINT_PAST),
    "-1",
    *NEXT_VALUES,
]
# Parameters tried on every page: the pen-test's (pagination, return links, a service's id),
# its values first (all on every page), then each with its other hostile values, taken in
# turn from one page to the next.
ALWAYS = {
    "page": [str(BIGINT_PAST), "99999999999999999999999", "-1", "abc", "\x00"],
    "next": NEXT_VALUES,
    "service": ["abc", str(BIGINT_PAST), "-1", "\x00", "1 OR 1=1"],
}
# Forms not posted: they end the session (the rest of the run would be logged out).
SKIPPED_ACTIONS = ("/deconnexion/", "/connexion/proconnect/")
# Pages not fuzzed: documents (a PDF takes seconds to render; it reads no parameter).
DOCUMENTS = re.compile(r"\.pdf$|/pdf/")
# The partners' API: its parameters are those its OpenAPI document declares.
API_PREFIX = "/api/v1/"
API_DOCUMENT = "/api/v1/openapi.json"
# How many times one form (same action, same fields) is posted across the site.
POSTS_PER_FORM = 2
# Tables a refused request may still write: the session, the login attempts' counters. The
# audit log is compared without its read lines.
UNCOUNTED = {"django_session", "axes_accessattempt", "axes_accessfailurelog", "axes_accesslog"}
AUDIT_TABLE = "access_auditevent"


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)


class _FormParser(HTMLParser):
    """The forms of a page: method, action, and each field's value as a browser sends it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._multiple = False
        self._options: list[str] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("method", "get").lower(), a.get("action", ""))
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        fields = self._form.fields
        if tag == "option" and self._select:
            self._options.append(a.get("value", ""))
            if "selected" in a:
                fields[self._select].append(a.get("value", ""))
            return
        name = a.get("name")
        if not name:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("file", "image", "reset"):
                return
            values = fields.setdefault(name, [])
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    values.append(a.get("value", "on"))
            elif kind != "submit" or not values:
                values.append(a.get("value", ""))
        elif tag == "select":
            self._select, self._multiple, self._options = name, "multiple" in a, []
            fields.setdefault(name, [])
        elif tag == "textarea":
            self._textarea = name
            fields[name] = [""]
        elif tag == "button" and a.get("type", "submit") == "submit":
            fields.setdefault(name, [a.get("value", "")])

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea][0] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._form is not None and self._select:
            # Nothing selected: a browser sends the first option (a multiple select, none).
            if not self._form.fields[self._select] and self._options and not self._multiple:
                self._form.fields[self._select] = self._options[:1]
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def _row_counts() -> dict[str, int]:
    """Rows of every table of the database (one statement)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
            "ORDER BY c.relname"
        )
        tables = [t for (t,) in cursor.fetchall() if t not in UNCOUNTED]
        cursor.execute(
            " UNION ALL ".join(
                f"SELECT '{t}', count(*) FROM {connection.ops.quote_name(t)}"  # noqa: S608 (catalogue names)
                + (" WHERE kind <> 'read'" if t == AUDIT_TABLE else "")
                for t in tables
            )
        )
        return dict(cursor.fetchall())


class _Broken(Exception):
    """A crash left the test's transaction unusable: the run stops at that request."""


def _transaction_broken() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return True
    return False


def _short(value: str) -> str:
    return repr(value if len(value) < 40 else value[:20] + f"…({len(value)} caractères)")


@dataclass
class Fuzzer:
    """Sends the hostile requests as each persona, and keeps what went wrong."""

    clients: dict[str, Client]
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    half_written: list[str] = field(default_factory=list)
    posted: Counter[tuple[str, ...]] = field(default_factory=Counter)
    always: dict[str, Any] = field(
        default_factory=lambda: {name: cycle(values) for name, values in ALWAYS.items()}
    )

    def send(self, who: str, method: str, path: str, data: dict[str, Any], where: str) -> Any:
        client = self.clients[who]
        response = client.post(path, data) if method == "post" else client.get(path, data)
        self.requests += 1
        if response.status_code >= 500:
            self.failures.append(f"{response.status_code} {where}")
            if _transaction_broken():
                raise _Broken
        return response

    def hostile(self, name: str) -> str:
        if name in self.always:
            return str(next(self.always[name]))
        return str(self.rng.choice(HOSTILE))

    def api(self, path: str, openapi: dict[str, Any]) -> None:
        """An endpoint of the partners' API, with a token: each query parameter its OpenAPI
        document declares, then its integer path arguments past bigint."""
        if path.startswith(API_DOCUMENT):
            return
        route = "/" + resolve(path).route
        declared = openapi["paths"].get(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route), {})
        for parameter in declared.get("get", {}).get("parameters", []):
            if parameter["in"] == "query":
                value = self.hostile(parameter["name"])
                where = f"GET {path} (API) : {parameter['name']}={_short(value)}"
                self.send("api", "get", path, {parameter["name"]: value}, where)
        self.path_ints(path, "api")

    def page(self, path: str, expected: dict[str, int], index: int) -> None:
        readers = [p for p in PERSONAS if expected[p] == 200]
        others = [p for p in PERSONAS if p not in readers]
        reader = readers[index % len(readers)] if readers else None
        base, kept = urlsplit(path).path, dict(parse_qsl(urlsplit(path).query))
        if others:
            who = self.rng.choice(others)
            data = {**kept, **{name: self.hostile(name) for name in ALWAYS}}
            self.send(who, "get", base, data, f"GET {base} en {who} : {_describe(data)}")
        self.path_ints(path, reader or self.rng.choice(PERSONAS))
        if reader is None:
            return
        response = self.send(reader, "get", path, {}, f"GET {path} en {reader}")
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            return
        forms = _forms(response.content.decode())
        # The pen-test's values on every page, all at once…
        data = {**kept, **{name: values[0] for name, values in ALWAYS.items()}}
        self.send(reader, "get", base, data, f"GET {base} en {reader} : {_describe(data)}")
        # …then each parameter alone, with the next of its values.
        names = set(ALWAYS) | set(kept)
        for form in forms:
            if form.method == "get":
                names |= set(form.fields)
        for name in sorted(names):
            value = self.hostile(name)
            self.send(
                reader,
                "get",
                base,
                {**kept, name: value},
                f"GET {base} en {reader} : {name}={_short(value)}",
            )
        for form in forms:
            if form.method == "post":
                self.post(reader, path, form)

    def path_ints(self, path: str, who: str) -> None:
        match = resolve(urlsplit(path).path)
        for name, value in match.kwargs.items():
            if isinstance(value, int):
                forged = urlsplit(path).path.replace(f"/{value}/", f"/{BIGINT_PAST}/", 1)
                self.send(who, "get", forged, {}, f"GET {forged} en {who} : chemin {name}")

    def post(self, who: str, page: str, form: Form) -> None:
        target = urlsplit(urljoin(page, form.action) if form.action else urlsplit(page).path)
        if target.netloc or target.path.startswith(SKIPPED_ACTIONS):
            return
        names = sorted(n for n in form.fields if n != "csrfmiddlewaretoken")
        try:
            view = resolve(target.path).view_name
        except Resolver404:
            view = target.path
        signature = (view, *names)
        if not names or self.posted[signature] >= POSTS_PER_FORM:
            return
        self.posted[signature] += 1
        defaults = {n: v for n, v in form.fields.items() if v}
        # A return address is the first field tried; otherwise any one.
        one = "next" if "next" in names and self.posted[signature] == 1 else self.rng.choice(names)
        one_value = self.hostile(one)
        every_value = self.rng.choice(HOSTILE)
        action = target.path + (f"?{target.query}" if target.query else "")
        for label, data in (
            (f"{one}={_short(one_value)}", {**defaults, one: one_value}),
            (f"tous les champs={_short(every_value)}", dict.fromkeys(names, every_value)),
        ):
            where = f"POST {action} (formulaire de {page}) en {who} : {label}"
            before = _row_counts()
            response = self.send(who, "post", action, data, where)
            if _refused(response):
                after = _row_counts()
                changed = {t: (n, after.get(t)) for t, n in before.items() if n != after.get(t)}
                if changed:
                    self.half_written.append(
                        f"{where} → {response.status_code}, lignes (avant, après) : {changed}"
                    )


def _refused(response: Any) -> bool:
    """A 4xx, or the form shown again with its errors (a 200 may also be a success: the API
    token shown once)."""
    if 400 <= response.status_code < 500:
        return True
    if response.status_code != 200 or response.context is None:
        return False
    return any(
        isinstance(value, BaseForm) and value.errors
        for context in response.context
        for value in context.flatten().values()
    )


def _describe(data: dict[str, str]) -> str:
    return ", ".join(f"{k}={_short(v)}" for k, v in data.items())


def _client(persona: str, personas: dict[str, Any]) -> Client:
    """A client that answers a crash with a 500 (rather than raising it) so that all are
    listed."""
    client = Client(raise_request_exception=False)
    return client if persona == "anonymous" else login_as(client, personas[persona])


@pytest.mark.django_db
def test_hostile_input_never_crashes_nor_half_writes(
    personas: dict[str, Any], orgs: dict[str, Any]
) -> None:
    started, cpu = time.monotonic(), time.process_time()
    ctx = {"personas": personas, "orgs": orgs}
    pages = [(build(ctx), expected) for _name, (build, expected) in sorted(MATRIX.items())]
    # The demo's directory and referrals: lists with rows, pages with their forms.
    load_demo_directory()
    load_demo_referrals(personas, demo_organisations())
    _token, secret = create_token(
        organisation=orgs["ft_toulon"], name="Fuzz", by=personas["claire"]
    )
    clients = {p: _client(p, personas) for p in PERSONAS}
    clients["api"] = Client(
        raise_request_exception=False, headers={"Authorization": f"Bearer {secret}"}
    )
    openapi = clients["anonymous"].get(API_DOCUMENT).json()
    fuzzer = Fuzzer(clients)
    ready, ready_cpu = time.monotonic(), time.process_time()
    try:
        for index, (path, expected) in enumerate(pages):
            if urlsplit(path).path.startswith(SKIPPED_ACTIONS) or DOCUMENTS.search(path):
                continue
            if path.startswith(API_PREFIX):
                fuzzer.api(path, openapi)
            else:
                fuzzer.page(path, expected, index)
    except _Broken:
        fuzzer.failures.append("(arrêt : la transaction du test est inutilisable)")
    print(  # noqa: T201 (the brief of this test: say how many requests it made)
        f"\nFuzz : {fuzzer.requests} requêtes (dont {sum(fuzzer.posted.values()) * 2} envois "
        f"de formulaires) en {time.monotonic() - ready:.1f} s "
        f"({time.process_time() - ready_cpu:.1f} s de processeur), après "
        f"{ready - started:.1f} s de préparation ({ready_cpu - cpu:.1f} s de processeur)"
    )
    assert not fuzzer.failures, "Réponses 5xx :\n" + "\n".join(fuzzer.failures)
    assert not fuzzer.half_written, "Formulaires refusés qui ont écrit :\n" + "\n".join(
        fuzzer.half_written
    )
