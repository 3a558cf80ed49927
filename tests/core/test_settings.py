import os
import subprocess
import sys

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
