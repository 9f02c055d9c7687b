"""structlog for every process: readable console lines or JSON lines.

Temporal's own loggers (``workflow.logger``, ``activity.logger``) go through the
same renderer; the event id is taken from their workflow id, so every line about
an event can be found by it. Personal data is masked last, whatever its source.

What a process writes to its terminal is lost, never raised, once the terminal is
gone (the reader of a pipe ended, the window closed): it must still stop in order.
"""

import contextlib
import logging
import sys
from pathlib import Path
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, WrappedLogger
from temporalio import activity, workflow

from definitions.event_ids import event_id_of
from definitions.privacy import mask_personal_data
from worker.settings import LogFormat


def _event_id_from_temporal(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Workflow ids are event ids: lift them from Temporal's log records, or
    from the running activity for lines that structlog writes itself."""
    if "event_id" in event_dict:
        return event_dict
    record = event_dict.get("_record")
    details = getattr(record, "temporal_workflow", None) or getattr(
        record, "temporal_activity", None
    )
    if isinstance(details, dict) and details.get("workflow_id"):
        event_dict["event_id"] = event_id_of(details["workflow_id"])
    elif activity.in_activity() and (workflow_id := activity.info().workflow_id):
        event_dict["event_id"] = event_id_of(workflow_id)
    return event_dict


def _mask(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    return {
        key: mask_personal_data(value) if isinstance(value, str) else value
        for key, value in event_dict.items()
    }


def say(text: str, *, err: bool = False) -> None:
    """A line for the person at the terminal (standard output, or error)."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr if err else sys.stdout, flush=True)


class _TerminalHandler(logging.StreamHandler[TextIO]):
    """Log lines to standard error, dropped without a word once it is gone."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802  (logging's name)
        gone = self.stream.closed or isinstance(sys.exc_info()[1], OSError)
        if not gone:
            super().handleError(record)


SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    _event_id_from_temporal,
]


def _formatter(renderer: Any) -> logging.Formatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=SHARED_PROCESSORS,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _mask,
            renderer,
        ],
    )


def configure_logging(log_format: LogFormat = LogFormat.CONSOLE, level: str = "INFO") -> None:
    """Loggers are not cached: a cached one keeps the processors of the configuration
    it first met, so a command configured twice in one process (the dev stack, tests)
    would write with the old ones and escape ``structlog.testing.capture_logs``."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format is LogFormat.JSON
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            *SHARED_PROCESSORS,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = _TerminalHandler(sys.stderr)
    handler.setFormatter(_formatter(renderer))
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in (
        "httpx",
        "uvicorn.access",
        "alembic.runtime.migration",
        "twilio.http_client",
        "fontTools",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def log_to_file(path: Path, *, terminal_level: int = logging.WARNING) -> None:
    """Every log line to ``path`` (plain text, appended); the terminal keeps only
    lines from ``terminal_level`` up, so that ``tocsin dev`` can tell its story."""
    path.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(_formatter(structlog.dev.ConsoleRenderer(colors=False)))
    root = logging.getLogger()
    for handler in root.handlers:
        handler.setLevel(terminal_level)
    root.addHandler(to_file)
