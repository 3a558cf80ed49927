"""Addresses reversed once per page, each row's id put in its place."""

from __future__ import annotations

from django.urls import reverse

from binome.core.links import id_url


def test_an_id_url_is_the_reversed_address_of_each_id() -> None:
    orient, household = id_url("rsa:orient"), id_url("people:household_edit", 12)
    for pk in (1, 7, 987, 2_000_000):
        assert orient(pk) == reverse("rsa:orient", args=[pk])
        assert household(pk) == reverse("people:household_edit", args=[12, pk])
