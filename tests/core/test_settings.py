import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "EMAIL_HOST"}}
    return subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; settings.DATABASES"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "binome.settings", **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "peut-être"}, "DEBUG doit valoir true ou false"),
        ({"DEBUG": "false"}, "SECRET_KEY doit être défini"),
        ({"DEBUG": "false", "SECRET_KEY": "x" * 50}, "EMAIL_HOST doit être défini"),
        ({"SESSION_IDLE_TIMEOUT": "une heure"}, "SESSION_IDLE_TIMEOUT doit être un nombre entier"),
    ],
)
def test_a_wrong_setting_stops_the_start_with_its_name(env, message):
    result = load_settings(**env)
    assert result.returncode != 0
    assert message in result.stderr


PERSON_KEYS = {
    "PERSON_MATCHING_KEY": "m" * 40,
    "PERSON_ENCRYPTION_KEY": "ZmRlZmF1bHQta2V5LWZvci10ZXN0cy1vbmx5LTMyYnk=",
}


def test_production_settings_load_when_complete():
    result = load_settings(
        DEBUG="false", SECRET_KEY="x" * 50, EMAIL_HOST="smtp.example.test", **PERSON_KEYS
    )
    assert result.returncode == 0, result.stderr


def test_production_needs_the_person_identifier_keys():
    result = load_settings(DEBUG="false", SECRET_KEY="x" * 50, EMAIL_HOST="smtp.example.test")
    assert result.returncode != 0
    assert "PERSON_MATCHING_KEY et PERSON_ENCRYPTION_KEY doivent être définis" in result.stderr


# --- `binome serve` refuses what production must not run with ----------------------------

PRODUCTION_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "EMAIL_HOST",
    "PERSON_MATCHING_KEY",
    "PERSON_ENCRYPTION_KEY",
    "SECURE_COOKIES",
    "SECURE_SSL_REDIRECT",
    "BINOME_TESTING",
}
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "p7#Jq2$wZ9!mV4@rT8^yB1&nK6*hL3(dF5)sG0-xC_eA+uI=oP~" * 2,
    "EMAIL_HOST": "smtp.example.test",
    **PERSON_KEYS,
}


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_VARIABLES}
    return subprocess.run(
        args,
        env={**clean, "DJANGO_SETTINGS_MODULE": "binome.settings", **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def serve(**env: str) -> subprocess.CompletedProcess[str]:
    binome = str(Path(sys.executable).with_name("binome"))
    return run([binome, "serve", "--bind", "127.0.0.1:0", "--workers", "1"], **env)


def production_problems(**env: str) -> list[str]:
    script = (
        "import django, json; django.setup(); "
        "from binome.site.production import production_problems; "
        "print(json.dumps(production_problems()))"
    )
    result = run([sys.executable, "-c", script], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_serve_refuses_the_development_defaults_naming_each_setting():
    result = serve()
    assert result.returncode != 0
    assert "refus de démarrer en production" in result.stderr
    for name in (
        "DEBUG est activé",
        "SECRET_KEY est la clé de développement",
        "PERSON_MATCHING_KEY manque",
        "PERSON_ENCRYPTION_KEY manque",
        "SECURE_SSL_REDIRECT",
        "includeSubDomains",
        "SESSION_COOKIE_SECURE",
    ):
        assert name in result.stderr, name
    assert "Traceback" not in result.stderr


def test_serve_names_a_setting_that_stops_the_start():
    result = serve(DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY doit être défini quand DEBUG=false" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_complete_production_environment_passes_the_check():
    assert production_problems(**PRODUCTION) == []
    assert production_problems(**PRODUCTION, SECURE_SSL_REDIRECT="true") == []


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        # (DEBUG=true also makes plain-HTTP cookies the default.)
        ({"DEBUG": "true", "SECURE_COOKIES": "true"}, ["DEBUG est activé"]),
        ({"SECRET_KEY": "trop-courte"}, ["SECRET_KEY est trop courte"]),
        (
            {"SECURE_COOKIES": "false"},
            ["HTTPS n'est pas configuré", "HSTS n'est pas activé", "SESSION_COOKIE_SECURE"],
        ),
        (
            {"SECURE_COOKIES": "false", "SECURE_SSL_REDIRECT": "true"},
            ["HSTS n'est pas activé", "SESSION_COOKIE_SECURE"],
        ),
    ],
)
def test_each_missing_production_setting_is_named(env, expected):
    problems = production_problems(**{**PRODUCTION, **env})
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected, strict=True):
        assert start in problem
