"""The day's traffic of ``binome bench soak`` (``bench/soak.py`` starts locust on it, headless).

Professionals of several organisations log in, then do a day's mix — worklist, person file,
a note, an action of the plan, a search of the directory, the inbox, a referral sent and one
answered, the notifications — and partners' systems read the API with their tokens. Who
logs in, and with what, is in the JSON file named by ``SOAK_PLAN`` (written by soak.py).

Only to the loopback address: soak.py passes ``--host http://127.0.0.1:PORT`` and this file
refuses any other. Each request has a route name (not its URL): the report groups by it.
The web server runs with production settings behind an HTTPS proxy, which this file plays:
it sends ``X-Forwarded-Proto: https`` and sends back the cookies marked Secure.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task
from soak_forms import (
    ACCEPT_VALUES,
    ACTION_VALUES,
    NOTE_VALUES,
    fill,
    first_error,
    objective_values,
    referral_values,
)

PLAN: dict[str, Any] = json.loads(Path(os.environ["SOAK_PLAN"]).read_text(encoding="utf-8"))
PROFESSIONALS = itertools.cycle(PLAN["professionals"])
TOKENS = itertools.cycle(PLAN["tokens"])
WORDS = ["logement", "permis", "aide alimentaire", "garde d'enfant", "CV", "budget", "santé"]
PERSON_LINK = re.compile(r'href="/personnes/(\d+)/"')
REFERRAL_LINK = re.compile(r'href="/orientations/(\d+)/"')
ACTION_ADD = re.compile(r'href="(/suivi/objectifs/\d+/actions/ajouter/)"')
PROXY = {"X-Forwarded-Proto": "https"}


@events.test_start.add_listener
def _loopback_only(environment: Any, **_kwargs: Any) -> None:
    host = urlsplit(environment.host or "").hostname
    if host != "127.0.0.1":
        raise SystemExit(f"soak: trafic refusé vers {host!r} : seulement 127.0.0.1")


def _behind_proxy(client: Any) -> None:
    """Say HTTPS as the proxy would, and send back over the loopback's plain HTTP the cookies
    the server marks Secure (requests keeps them for HTTPS otherwise)."""
    client.headers.update(PROXY)
    prepare = client.prepare_request

    def prepare_request(request: Any) -> Any:
        for cookie in client.cookies:
            cookie.secure = False
        return prepare(request)

    client.prepare_request = prepare_request


class Professional(HttpUser):
    """A professional's day: reads most of the time, writes now and then."""

    weight = 9
    wait_time = between(2, 6)

    def on_start(self) -> None:
        _behind_proxy(self.client)
        # The address the browser sees through the proxy: the CSRF check compares the Referer.
        self._https = (self.host or "").replace("http://", "https://", 1)
        who = next(PROFESSIONALS)
        self.persons: list[int] = list(who["persons"])
        self.referrals: list[int] = []
        page = self.client.get("/connexion/", name="connexion (page)")
        values = fill(
            page.text, "/connexion/", {"username": who["email"], "password": PLAN["password"]}
        )
        with self.client.post(
            "/connexion/",
            data=values or {},
            name="connexion",
            allow_redirects=False,
            headers={"Referer": f"{self._https}/connexion/"},
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"connexion refusée ({answer.status_code})")

    def _person(self) -> int | None:
        return random.choice(self.persons) if self.persons else None

    def _post_form(
        self,
        form_url: str,
        name: str,
        overrides: dict[str, str] | Callable[[str], dict[str, str]],
        referer: str | None = None,
    ) -> None:
        """GET the form's page, then POST it filled (``overrides`` may depend on the page);
        anything but a redirection is a failure, with the page's first error message."""
        page = self.client.get(form_url, name=f"{name} (formulaire)")
        if page.status_code != 200:
            return
        values = fill(
            page.text, form_url, overrides(page.text) if callable(overrides) else overrides
        )
        if values is None:
            return
        with self.client.post(
            form_url,
            data=values,
            name=name,
            allow_redirects=False,
            headers={"Referer": f"{self._https}{referer or form_url}"},
            catch_response=True,
        ) as answer:
            if answer.status_code not in {302, 303}:
                why = first_error(answer.text or "")
                answer.failure(f"formulaire refusé ({answer.status_code}) {why}"[:200])

    @task(3)
    def home(self) -> None:
        self.client.get("/", name="accueil")

    @task(5)
    def worklist(self) -> None:
        page = self.client.get("/suivi/mes-personnes/", name="mes personnes")
        found = [int(pk) for pk in PERSON_LINK.findall(page.text)]
        if found:
            self.persons = found

    @task(6)
    def person_file(self) -> None:
        person = self._person()
        if person is not None:
            self.client.get(f"/personnes/{person}/", name="dossier de la personne")

    @task(2)
    def note(self) -> None:
        person = self._person()
        if person is not None:
            self._post_form(f"/suivi/personnes/{person}/notes/ajouter/", "note", NOTE_VALUES)

    @task(1)
    def plan_action(self) -> None:
        """An action under one of the plan's objectives, or an objective when there is none."""
        person = self._person()
        if person is None:
            return
        page = self.client.get(f"/personnes/{person}/", name="dossier de la personne")
        if page.status_code != 200:
            return
        links = ACTION_ADD.findall(page.text)
        if links:
            self._post_form(random.choice(links), "action du plan", ACTION_VALUES)
        elif f"/suivi/personnes/{person}/plan/objectifs/ajouter/" in page.text:
            self._post_form(
                f"/suivi/personnes/{person}/plan/objectifs/ajouter/",
                "objectif du plan",
                objective_values,
            )

    @task(4)
    def directory_search(self) -> None:
        self.client.get("/annuaire/", params={"q": random.choice(WORDS)}, name="annuaire")

    @task(4)
    def inbox(self) -> None:
        page = self.client.get("/orientations/", name="orientations reçues")
        self.referrals = [int(pk) for pk in REFERRAL_LINK.findall(page.text)]

    @task(1)
    def send_referral(self) -> None:
        """A global accompaniment asked of an organisation of the territory, the person's
        consent taken orally."""
        person = self._person()
        if person is not None:
            self._post_form(
                f"/orientations/personnes/{person}/orienter/",
                "orienter",
                referral_values,
            )

    @task(1)
    def answer_referral(self) -> None:
        """One of the inbox's referrals opened, and accepted with a first step when it can be."""
        if not self.referrals:
            return
        referral = random.choice(self.referrals)
        self.referrals.remove(referral)
        page = self.client.get(f"/orientations/{referral}/", name="orientation")
        action = f"/orientations/{referral}/accepter/"
        if page.status_code == 200 and f'href="{action}"' in page.text:
            self._post_form(
                action,
                "accepter une orientation",
                ACCEPT_VALUES,
            )

    @task(2)
    def notifications(self) -> None:
        self.client.get("/notifications/", name="notifications")


class ApiClient(HttpUser):
    """A partner's system reading the directory through the API with its token."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        _behind_proxy(self.client)
        self.client.headers["Authorization"] = f"Bearer {next(TOKENS)}"
        self.ids: list[int] = []

    @task(3)
    def services(self) -> None:
        answer = self.client.get(
            "/api/v1/services",
            params={"commune": PLAN["commune"], "q": random.choice(WORDS), "taille": 20},
            name="api services",
        )
        if answer.status_code == 200:
            self.ids = [item["id"] for item in answer.json().get("resultats", [])]

    @task(2)
    def service(self) -> None:
        if self.ids:
            self.client.get(f"/api/v1/services/{random.choice(self.ids)}", name="api service")

    @task(1)
    def structures(self) -> None:
        self.client.get("/api/v1/structures", params={"taille": 20}, name="api structures")
