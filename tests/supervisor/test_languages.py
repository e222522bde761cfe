"""The reports and their CSV export in the reader's language (Accept-Language, else the user's own
choice): translated labels and words; the separator and decimal mark Excel expects (``;`` and
``,`` in pt-BR and es); UTF-8 with a BOM. And every text of the wallboard and the reports has its
pt-BR and es translation."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from cti.app import RunningService
from cti.i18n import messages
from cti.i18n_extract import extracted

from .conftest import Client
from .test_reports import seed

BOM = b"\xef\xbb\xbf"
# The files whose texts are ours: the wallboard, the reports (page and server).
MINE = ("web/static/wallboard/", "web/static/reports/", "db/reports.py", "web/reports_i18n.py")


async def _csv(client: Client, path: str, language: str) -> tuple[bytes, list[list[str]], str]:
    resp = await client.get(path, headers={"Accept-Language": language})
    assert resp.status == 200, await resp.text()
    raw = await resp.read()
    separator = ";" if language.startswith(("pt", "es")) else ","
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=separator))
    return raw, rows, resp.headers.get("Content-Language", "")


async def test_a_csv_export_in_portuguese_opens_in_excel(
    service: RunningService, supervisor: Client
) -> None:
    d = (await seed(service))["d"]
    raw, rows, language = await _csv(
        supervisor, f"/api/v1/reports/queues?from={d}&to={d}&format=csv", "pt-BR,pt;q=0.9"
    )
    assert raw.startswith(BOM)  # Excel reads it as UTF-8 (accents intact)
    assert b";" in raw.splitlines()[0]
    assert language == "pt-BR"
    assert rows[0] == [
        "Fila",
        "Chamadas",
        "Atendidas",
        "Abandonadas",
        "Não atendidas",
        "Taxa de atendimento",
        "Conversa média (s)",
        "Tempo de conversa (s)",
    ]
    support = next(r for r in rows[1:] if r[0] == "support")
    assert support[:4] == ["support", "3", "2", "1"]
    assert support[5] == "0,6667" and support[6] == "90,0"  # a comma for the decimal mark

    # The critical report: its words and problems translated, money with a comma.
    _, crit, _ = await _csv(
        supervisor, f"/api/v1/reports/critical?from={d}&to={d}&format=csv", "pt-BR"
    )
    header = crit[0]
    promise = next(r for r in crit[1:] if r[0].startswith("promessa"))
    assert promise[header.index("Status")] == "aberta"
    assert promise[header.index("Rotina")] == "cobrança"
    assert promise[header.index("Valor")] == "120,5"
    assert {r[0] for r in crit[1:]} >= {"retorno atrasado", "pendente há mais de 3 dias"}


@pytest.mark.parametrize(("language", "separator"), [("es", ";"), ("en-US", ",")])
async def test_the_csv_separator_follows_the_language(
    service: RunningService, supervisor: Client, language: str, separator: str
) -> None:
    d = (await seed(service))["d"]
    raw, rows, _ = await _csv(
        supervisor, f"/api/v1/reports/queues?from={d}&to={d}&format=csv", language
    )
    assert raw.startswith(BOM)
    assert raw[len(BOM) :].decode().split("\r\n")[0].count(separator) == 7
    support = next(r for r in rows[1:] if r[0] == "support")
    assert support[6] == ("90,0" if separator == ";" else "90.0")
    assert rows[0][0] == ("Cola" if language == "es" else "Queue")


async def test_the_json_report_speaks_the_users_own_language(
    service: RunningService, supervisor: Client
) -> None:
    d = (await seed(service))["d"]
    resp = await supervisor.put("/api/v1/me/language", json={"language": "es"})
    assert resp.status == 200, await resp.text()
    # Her own choice wins over her browser's.
    resp = await supervisor.get(
        f"/api/v1/reports/dispositions?from={d}&to={d}", headers={"Accept-Language": "pt-BR"}
    )
    assert resp.headers["Content-Language"] == "es"
    assert "Accept-Language" in resp.headers["Vary"]
    body = await resp.json()
    assert body["title"] == "Tipificaciones y motivos de cierre"
    assert [c["label"] for c in body["columns"]] == [
        "Estado",
        "Motivo de cierre",
        "Rutina",
        "Atenciones",
    ]
    words = {(r["status"], r["closing_reason"]) for r in body["rows"]}
    assert ("cerrada", "Solved") in words and ("cancelada", "(sin motivo)") in words
    assert body["chart"]["series"][0]["label"] == "cerrada"
    # Operators' counts of attentions by status read as counts (plural), not as one's status.
    resp = await supervisor.get(f"/api/v1/reports/productivity?from={d}&to={d}")
    productivity = await resp.json()
    labels = [c["label"] for c in productivity["columns"]]
    assert labels[-4:] == ["Pendientes", "Planificadas", "Cerradas", "Canceladas"]
    # Its chart's legend says them as its columns do (it read "pendiente, planificada...").
    legend = [s["label"] for s in productivity["chart"]["series"]]
    assert legend == ["Pendientes", "Planificadas", "Cerradas", "Canceladas"]
    # A chart's legend of calls counts calls: all three plural (the first read "contestada").
    resp = await supervisor.get(f"/api/v1/reports/campaigns?from={d}&to={d}")
    legend = [s["label"] for s in (await resp.json())["chart"]["series"]]
    assert legend == ["contestadas", "abandonadas", "no contestadas"]


def test_every_text_of_the_wallboard_and_the_reports_is_translated() -> None:
    texts = {
        text
        for text, where in extracted().items()
        if any(path.startswith(MINE) for path, _line in where)
    }
    assert len(texts) > 150
    for language in ("pt-BR", "es"):
        missing = sorted(texts - messages(language).keys())
        assert missing == [], (language, missing)


async def test_moments_in_a_csv_are_local_times_every_excel_reads_as_dates(
    service: RunningService, supervisor: Client
) -> None:
    """The JSON carries moments in ISO 8601 with their offset (the page shows them in the reader's
    format); the CSV writes them in the report's time zone as ``2026-12-04 14:30:05``, which Excel
    reads as a date and time in every language (a ``T`` and an offset it would leave as text)."""
    d = (await seed(service))["d"]
    zone = "America/Sao_Paulo"
    path = f"/api/v1/reports/contact-frequency?from={d}&to={d}&tz={zone}"
    report = await (await supervisor.get(path)).json()
    assert report["rows"], report
    _, rows, _ = await _csv(supervisor, f"{path}&format=csv", "pt-BR")
    header = rows[0]
    first, last = header.index("Primeiro"), header.index("Último")
    for row, line in zip(report["rows"], rows[1:], strict=True):
        for key, column in (("first", first), ("last", last)):
            moment = datetime.fromisoformat(row[key]).astimezone(ZoneInfo(zone))
            assert line[column] == moment.strftime("%Y-%m-%d %H:%M:%S"), (row, line)
