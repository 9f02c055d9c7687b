"""Log lines: JSON when asked, the event id on every line about an event, no phone numbers."""

import json
import subprocess
import sys

from definitions.privacy import mask_personal_data

_EMIT_LOGS = """
import logging, structlog
from worker.logging import configure_logging
from worker.settings import LogFormat
configure_logging(LogFormat.JSON)
event_id = "inondation-20261122-k3f9"
structlog.get_logger("test").info("sms.sent", event_id=event_id, to="+33639980012")
logging.getLogger("temporalio.workflow").info(
    "phase started for 06 39 98 00 13",
    extra={"temporal_workflow": {"workflow_id": event_id + "/designation"}},
)
"""


def test_json_lines_carry_the_event_id_and_mask_phones() -> None:
    emitted = subprocess.run(
        [sys.executable, "-c", _EMIT_LOGS], capture_output=True, text=True, check=True
    )
    first, second = (json.loads(line) for line in emitted.stderr.splitlines())
    assert first["event_id"] == "inondation-20261122-k3f9"
    assert first["to"] == "+33 6 ** ** ** 12"
    assert first["level"] == "info" and "timestamp" in first
    assert second["event_id"] == "inondation-20261122-k3f9"
    assert second["event"] == "phase started for +33 6 ** ** ** 13"


def test_masking_keeps_codes_and_ids_readable() -> None:
    text = (
        "CCAS 59350 (EPCI 200093201), événement inondation-20261122-k3f9, "
        "appel au 0639980014 puis +33 6 39 98 00 15, mail directrice@example.org"
    )
    masked = mask_personal_data(text)
    assert "59350" in masked and "200093201" in masked
    assert "inondation-20261122-k3f9" in masked
    assert "0639980014" not in masked and "appel au +33 6 ** ** ** 14 puis" in masked
    assert "39 98 00 15" not in masked and "puis +33 6 ** ** ** 15," in masked
    assert mask_personal_data("+4915112345678") == "+***********78"
    assert "directrice@" not in masked and "d***@example.org" in masked


_CONFIGURE_TWICE = """
import io, sys, structlog
from structlog.testing import capture_logs
from worker.logging import configure_logging
terminal, sys.stderr = sys.stderr, io.StringIO()
configure_logging()
log = structlog.get_logger("gateway")
log.info("command.first")
sys.stderr.close()
sys.stderr = terminal
log.info("command.after_its_terminal_closed")
configure_logging()
with capture_logs() as captured:
    log.warning("command.second")
print([line["event"] for line in captured])
"""


def test_a_second_configuration_in_one_process_is_the_one_used() -> None:
    """Commands run in-process (the dev stack, tests) configure logging again: lines
    follow the latest configuration, and one written to a closed terminal is dropped
    without a traceback."""
    emitted = subprocess.run(
        [sys.executable, "-c", _CONFIGURE_TWICE], capture_output=True, text=True, check=True
    )
    assert emitted.stdout.strip() == "['command.second']"
    assert "Logging error" not in emitted.stderr
