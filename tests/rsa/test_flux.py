"""The CNAF/MSA flow reader: what it reads, and every way a file is refused in French."""

from __future__ import annotations

import datetime
import io
import time
import tracemalloc

import pytest
from stdnum.fr import nir as stdnum_nir

from binome.rsa.flux import (
    DossierRefused,
    FluxHeader,
    FluxRefused,
    RightState,
    Role,
    open_flux,
    parse_date,
    parse_nir,
)
from binome.rsa.flux_writer import DossierRow, PersonRow, write_flux

HEADER = FluxHeader(
    sender="CAF",
    kind="M",
    created_on=datetime.date(2026, 11, 30),
    reference_date=datetime.date(2026, 11, 1),
)


def with_key(body: str) -> str:
    return body + stdnum_nir.calc_check_digits(body)


def couple(number: str = "0001", *, nir: str = "2850583123456") -> DossierRow:
    return DossierRow(
        number=number,
        matricule="7788990",
        requested_on=datetime.date(2026, 10, 12),
        state=RightState.AWAITING_DECISION,
        family_situation="MAR",
        persons=(
            PersonRow(Role.APPLICANT, "Lefèvre", "Hélène", datetime.date(1985, 5, 3), nir=nir),
            PersonRow(Role.SPOUSE, "Lefèvre", "Noël", datetime.date(1983, 2, 9), sex="1"),
            PersonRow(Role.CHILD, "Lefèvre", "Zoé", datetime.date(2019, 8, 1), subject=False),
        ),
    )


def flow_bytes(*dossiers: DossierRow, declared_count: int | None = None, **kwargs) -> bytes:
    out = io.BytesIO()
    write_flux(out, HEADER, dossiers, declared_count=declared_count, **kwargs)
    return out.getvalue()


def read_all(data: bytes) -> tuple[FluxHeader, list]:
    flux = open_flux(io.BytesIO(data), "flux.xml")
    return flux.header, list(flux.dossiers())


def test_a_monthly_flow_is_read_with_its_households_in_windows_1252() -> None:
    data = flow_bytes(couple(), couple("0002", nir=with_key("1920783123457")))
    assert b"windows-1252" in data[:80] and "Hélène".encode("cp1252") in data

    header, dossiers = read_all(data)

    assert header == HEADER
    assert header.description == "flux mensuel CAF du 30/11/2026"
    first = dossiers[0]
    assert first.number == "0001" and first.matricule == "7788990" and first.body == "CAF"
    assert first.state is RightState.AWAITING_DECISION and not first.state.is_open
    assert first.requested_on == datetime.date(2026, 10, 12)
    assert [(p.role, p.first_name) for p in first.persons] == [
        (Role.APPLICANT, "Hélène"),
        (Role.SPOUSE, "Noël"),
        (Role.CHILD, "Zoé"),
    ]
    assert [p.first_name for p in first.subject_persons] == ["Hélène", "Noël"]
    assert first.persons[0].nir == "2850583123456"
    # A NIR with its key is checked, then kept as its 13 characters.
    assert dossiers[1].persons[0].nir == "1920783123457"


def test_a_corsican_nir_with_its_key_is_accepted() -> None:
    _header, dossiers = read_all(flow_bytes(couple(nir=with_key("185052A123456"))))
    assert dossiers[0].persons[0].nir == "185052A123456"


def test_a_nir_with_a_wrong_key_leaves_out_its_dossier_only() -> None:
    wrong = "1920783123457" + f"{(int(stdnum_nir.calc_check_digits('1920783123457')) + 1) % 97:02d}"
    _header, dossiers = read_all(flow_bytes(couple("0001", nir=wrong), couple("0002")))

    refused, kept = dossiers
    assert isinstance(refused, DossierRefused) and refused.element == "NIR"
    assert str(refused).startswith("dossier n° 0001 (ligne ")
    assert "la clé du NIR de Hélène Lefèvre ne correspond pas" in str(refused)
    assert kept.number == "0002"


def test_the_same_nir_in_two_dossiers_refuses_the_second() -> None:
    _header, dossiers = read_all(flow_bytes(couple("0001"), couple("0002")))
    assert dossiers[0].number == "0001" and not isinstance(dossiers[0], DossierRefused)
    assert isinstance(dossiers[1], DossierRefused)
    assert "figure déjà dans le dossier n° 0001" in dossiers[1].reason


def test_an_impossible_date_names_its_element_and_line() -> None:
    data = flow_bytes(couple()).replace(b"1985-05-03", b"1985-02-31")
    _header, (refused,) = read_all(data)
    assert isinstance(refused, DossierRefused)
    assert (
        refused.element == "DTNAI" and "« 1985-02-31 » n'est pas une date valide" in refused.reason
    )
    assert refused.line == data[: data.index(b"1985-02-31")].count(b"\n") + 1


def test_an_unknown_state_or_role_is_named() -> None:
    data = flow_bytes(couple()).replace(b"<ETATDOSRSA>0<", b"<ETATDOSRSA>9<")
    _header, (refused,) = read_all(data)
    assert refused.element == "ETATDOSRSA" and "« 9 »" in refused.reason
    data = flow_bytes(couple()).replace(b"<ROLEPERS>CJT<", b"<ROLEPERS>XXX<")
    _header, (refused,) = read_all(data)
    assert refused.element == "ROLEPERS" and "« XXX »" in refused.reason


def test_a_cut_file_is_refused_whole() -> None:
    data = flow_bytes(couple("0001"), couple("0002", nir=""))
    flux = open_flux(io.BytesIO(data[: len(data) * 2 // 3]), "flux.xml")
    with pytest.raises(FluxRefused, match="coupé"):
        list(flux.dossiers())


def test_a_trailer_that_counts_more_dossiers_than_sent_refuses_the_file() -> None:
    flux = open_flux(io.BytesIO(flow_bytes(couple(), declared_count=5)), "flux.xml")
    with pytest.raises(FluxRefused, match="annonce 5 dossiers transmis mais en contient 1"):
        list(flux.dossiers())


def test_a_file_without_trailer_is_refused() -> None:
    data = flow_bytes(couple())
    start = data.index(b"<TransmissionFlux>")
    end = data.index(b"</TransmissionFlux>") + len(b"</TransmissionFlux>")
    flux = open_flux(io.BytesIO(data[:start] + data[end:]), "flux.xml")
    with pytest.raises(FluxRefused, match="TransmissionFlux"):
        list(flux.dossiers())


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        ((b"<APPLIEME>CRI<", b"<APPLIEME>XYZ<"), "ni un flux de la CNAF"),
        ((b"<TYPEFLUX>M<", b"<TYPEFLUX>Q<"), "n'est pas un type de flux connu"),
        ((b"<IdentificationFlux>", b"<Autre>"), "IdentificationFlux"),
        ((b"<DTCREAFLUX>2026-11-30<", b"<DTCREAFLUX>2026-13-30<"), "n'est pas une date valide"),
    ],
)
def test_a_file_that_is_not_an_rsa_flow_is_refused(replace, message) -> None:
    data = flow_bytes(couple()).replace(*replace)
    if replace[1] == b"<Autre>":
        data = data.replace(b"</IdentificationFlux>", b"</Autre>")
    with pytest.raises(FluxRefused, match=message):
        flux = open_flux(io.BytesIO(data), "flux.xml")
        list(flux.dossiers())


def test_an_empty_file_and_a_text_file_are_refused() -> None:
    with pytest.raises(FluxRefused, match="vide"):
        open_flux(io.BytesIO(b""), "flux.xml")
    with pytest.raises(FluxRefused, match="pas un XML lisible"):
        open_flux(io.BytesIO(b"NUMDEMRSA;NOM\n0001;Lefevre\n"), "flux.xml")


def test_characters_not_in_the_declared_encoding_are_refused() -> None:
    data = flow_bytes(couple()).replace(b"windows-1252", b"UTF-8")
    with pytest.raises(FluxRefused, match="encodage"):
        open_flux(io.BytesIO(data), "flux.xml")


def test_an_xml_bomb_is_refused_at_once() -> None:
    bomb = (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{"&lol" + (str(i - 1) if i > 1 else "") + ";" * 1}'.encode()
            + b"" * 0
            + f'{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 9}">'.encode()
            for i in range(1, 10)
        )
        + b"]>\n<FluxBeneficiaires><IdentificationFlux><APPLIEME>&lol9;</APPLIEME>"
        + b"</IdentificationFlux></FluxBeneficiaires>"
    )
    started = time.monotonic()
    with pytest.raises(FluxRefused, match="DTD ou des entités"):
        open_flux(io.BytesIO(bomb), "bombe.xml")
    assert time.monotonic() - started < 1


def test_an_external_entity_is_refused() -> None:
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<FluxBeneficiaires><IdentificationFlux><APPLIEME>&xxe;</APPLIEME>"
        b"</IdentificationFlux></FluxBeneficiaires>"
    )
    with pytest.raises(FluxRefused, match="DTD ou des entités"):
        open_flux(io.BytesIO(data), "flux.xml")


def test_memory_stays_flat_however_many_dossiers() -> None:
    def households(count: int):
        for i in range(count):
            yield DossierRow(
                number=f"{i:08d}",
                matricule=f"{i:07d}",
                requested_on=datetime.date(2026, 10, 1),
                state=RightState.OPEN,
                persons=(PersonRow(Role.APPLICANT, "Martin", "Claude", datetime.date(1980, 1, 1)),),
            )

    peaks = []
    for count in (1_000, 10_000):
        data = flow_bytes(*households(count))
        tracemalloc.start()
        flux = open_flux(io.BytesIO(data), "flux.xml")
        assert sum(1 for _ in flux.dossiers()) == count
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # Ten times the dossiers, well under twice the memory: nothing is kept per dossier.
    assert peaks[1] < 2 * peaks[0], peaks


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("1920783123457", "1920783123457"),
        (with_key("1920783123457"), "1920783123457"),
        ("1 92 07 83 123 457 " + with_key("1920783123457")[13:], "1920783123457"),
        ("1.92.07.83.123.457", "1920783123457"),
        (with_key("185052A123456").lower(), "185052A123456"),
        ("", ""),
    ],
)
def test_a_nir_is_read_in_the_forms_it_is_written(written: str, read: str) -> None:
    assert parse_nir(written, "Hélène Lefèvre") == read


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("1920783123457AB", "la clé du NIR de Hélène Lefèvre ne correspond pas"),
        ("1920783123457" + "9" * 2, "la clé du NIR de Hélène Lefèvre ne correspond pas"),
        ("192078312345", "n'a pas la forme d'un NIR"),
        ("4920783123457", "n'a pas la forme d'un NIR"),
    ],
)
def test_a_nir_that_is_not_one_is_refused_in_french(written: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_nir(written, "Hélène Lefèvre")


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("2026-11-30", datetime.date(2026, 11, 30)),
        ("30/11/2026", datetime.date(2026, 11, 30)),
        ("20261130", datetime.date(2026, 11, 30)),
        ("2026-1-30", datetime.date(2026, 1, 30)),
        ("", None),
    ],
)
def test_a_date_is_read_in_the_forms_the_flows_write_it(
    written: str, read: datetime.date | None
) -> None:
    assert parse_date(written) == read


@pytest.mark.parametrize("written", ["2026-02-31", "2026-W48-1", "31/02/2026", "demain"])
def test_a_date_that_is_not_one_is_refused_in_french(written: str) -> None:
    with pytest.raises(ValueError, match=f"« {written} » n'est pas une date valide"):
        parse_date(written)
