"""The generator runs the steps of the modules the site lists, in the list's order."""

from __future__ import annotations

import importlib

from django.apps import apps
from django.utils.module_loading import module_has_submodule

from binome.site.generate import STEP_MODULES, registered_steps


def test_every_app_s_generate_module_is_in_the_site_s_list() -> None:
    found = {
        f"{config.name}.generate"
        for config in apps.get_app_configs()
        if config.name.startswith("binome.") and module_has_submodule(config.module, "generate")
    }
    assert found <= set(STEP_MODULES)


def test_the_list_orders_the_steps_whatever_module_was_imported_first() -> None:
    importlib.import_module("binome.referrals.generate")
    modules = [item.module for item in registered_steps()]
    assert modules[0] == "binome.site.generate"
    assert modules == sorted(modules, key=STEP_MODULES.index)
    assert set(modules) == set(STEP_MODULES)
