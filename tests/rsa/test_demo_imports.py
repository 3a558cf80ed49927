"""The demo's RSA imports: the Var's saved mapping and its sample spreadsheet, loaded once."""

from __future__ import annotations

import io

from binome.rsa.actions import open_source
from binome.rsa.demo_imports import MAPPING_NAME, SAMPLE, load_demo_rsa_imports
from binome.rsa.flux import DossierRefused, RsaDossier
from binome.rsa.models import FlowImport, ImportStatus, SpreadsheetMapping
from tests.factories import make_member


def test_the_demo_saves_the_var_mapping_and_its_sample_waits_to_be_checked(small_var) -> None:
    claire = make_member("Claire", small_var.departement)

    load_demo_rsa_imports({"claire": claire})
    load_demo_rsa_imports({"claire": claire})  # idempotent

    mapping = SpreadsheetMapping.objects.get(department_id="83")
    draft = FlowImport.objects.get(department_id="83")
    assert mapping.name == MAPPING_NAME
    assert (draft.status, draft.mapping, draft.by) == (ImportStatus.DRAFT, mapping, claire)
    assert bytes(draft.content) == SAMPLE.read_bytes()
    sheet = open_source(io.BytesIO(SAMPLE.read_bytes()), SAMPLE.name, mapping=mapping)
    dossiers = list(sheet.dossiers())
    assert [type(d) for d in dossiers] == [RsaDossier, RsaDossier, DossierRefused, RsaDossier]
    assert "31/02/1977" in str(dossiers[2])
