"""The crisis log exported for a spreadsheet: what a person typed stays text."""

import csv
import io
from datetime import UTC, datetime

from definitions.crisis_log import CrisisLogEntry, CrisisLogKind
from operations.crisis_log_export import crisis_log_csv


def test_a_line_that_looks_like_a_formula_stays_text_in_the_csv() -> None:
    entry = CrisisLogEntry(
        entry_key="k1",
        event_id="inondation-20270301-abcd",
        at=datetime(2027, 3, 1, 9, tzinfo=UTC),
        actor='=HYPERLINK("http://example.org","CCAS")',
        kind=CrisisLogKind.SITUATION_REPORT,
        text="-2 centres sans réponse",
    )
    [header, row] = list(
        csv.reader(io.StringIO(crisis_log_csv([entry]).decode("utf-8-sig")), delimiter=";")
    )
    assert len(header) == len(row)
    assert row[1] == '\'=HYPERLINK("http://example.org","CCAS")'
    assert row[3] == "'-2 centres sans réponse"
