"""End to end: ``tocsin dev`` as a user runs it, driven by the ``tocsin`` CLI."""

import asyncio
import contextlib
import csv
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from definitions.directory import OrganisationKind
from definitions.territory import load_territory
from tests.conftest import SCRIPTS, plain_text
from worker.demo_directory import demo_directory
from worker.ports import free_port, is_port_busy

pytestmark = pytest.mark.heavy
TOCSIN = str(SCRIPTS / "tocsin")
START_TIMEOUT = 60.0
TERMINAL_LINES = 24
"""What ``tocsin dev`` may print, both streams together, until it is ready."""


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier}
        frontier = children - found
        found |= children
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class DevStack:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.http_port = free_port()
        self.temporal_port = free_port()
        self.ui_port = free_port()
        self.env = {
            **os.environ,
            "TOCSIN_STATE_DIR": str(state_dir),
            "TOCSIN_TEMPORAL_PORT": str(self.temporal_port),
            "TOCSIN_HTTP_PORT": str(self.http_port),
        }

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TOCSIN, *args], env=self.env, capture_output=True, text=True, timeout=60, check=False
        )

    def dev_command(self, *options: str) -> list[str]:
        """``tocsin dev`` on this stack's ports and state folder."""
        return [
            TOCSIN,
            "dev",
            "--http-port",
            str(self.http_port),
            "--temporal-port",
            str(self.temporal_port),
            "--temporal-ui-port",
            str(self.ui_port),
            "--state-dir",
            str(self.state_dir),
            *options,
        ]

    def start(self) -> None:
        """``tocsin dev`` until it answers its health probe and has printed its banner."""
        self.process = subprocess.Popen(
            self.dev_command(),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._wait_healthy(self.process)
        self.banner = self._read_banner(self.process)
        assert self.process.stdout is not None
        self.told: list[str] = []
        threading.Thread(target=self._keep_told, daemon=True).start()
        self.children = _descendants(self.process.pid)
        assert self.children, "tocsin dev started no Temporal server"

    def _keep_told(self) -> None:
        """What the terminal shows after the banner, kept for the tests to read."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.told.append(line)

    def stop(self, stop_signal: signal.Signals = signal.SIGTERM) -> None:
        """Stops the stack as a terminal does; none of the processes it started is left."""
        self.process.send_signal(stop_signal)
        assert self.process.wait(timeout=30) == 0
        started = _descendants(self.process.pid) | self.children
        left = {pid for pid in started if _alive(pid)}
        assert not left, f"processes left behind: {left}"

    @staticmethod
    def _read_banner(process: subprocess.Popen[str]) -> str:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("Arrêt"):
            lines.append(process.stdout.readline())
        return "".join(lines)

    @contextmanager
    def console_session(self) -> Iterator[httpx.Client]:
        """Signed in to the console with the demo account the banner gives."""
        credentials = re.search(r"identifiant (\S+), mot de passe (\S+)\)", self.banner)
        assert credentials is not None, self.banner
        with httpx.Client(base_url=f"http://127.0.0.1:{self.http_port}") as console:
            signed_in = console.post(
                "/connexion",
                data={"login": credentials.group(1), "password": credentials.group(2)},
            )
            assert signed_in.status_code == 303, signed_in.text
            yield console

    def _wait_healthy(self, process: subprocess.Popen[str]) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert process.poll() is None, "tocsin dev exited early"
            try:
                if httpx.get(f"http://127.0.0.1:{self.http_port}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError("tocsin dev never became healthy")

    def workflow_count(self) -> int:
        async def count() -> int:
            client = await Client.connect(f"127.0.0.1:{self.temporal_port}")
            return (await client.count_workflows()).count

        return asyncio.run(count())

    def status(self, event_id: str) -> Any:
        result = self.command("status", event_id, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def wait_for_centres(
        self, event_id: str, department: str, condition: Callable[[list[Any]], bool]
    ) -> list[Any]:
        """The department's centres as ``tocsin status --json`` lists them, once
        ``condition`` holds for them."""
        for _ in range(100):
            shown = self.command("status", event_id, "--department", department, "--json")
            centres: list[Any] = json.loads(shown.stdout)["centres"]
            if centres and condition(centres):
                return centres
            time.sleep(0.1)
        raise AssertionError(f"{event_id} {department}: condition never met")

    def wait_for(self, event_id: str, condition: Callable[[Any], bool]) -> Any:
        """The event's JSON status once ``condition`` holds for it."""
        for _ in range(100):
            status = self.status(event_id)
            if condition(status):
                return status
            time.sleep(0.1)
        raise AssertionError(f"{event_id}: condition never met")


def _mailbox(folder: Path) -> dict[str, list[EmailMessage]]:
    """The sandbox's saved mails by recipient."""
    mail: dict[str, list[EmailMessage]] = {}
    for path in sorted(folder.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        mail.setdefault(str(message["To"]), []).append(message)
    return mail


@pytest.fixture
def stack(tmp_path: Path) -> DevStack:
    return DevStack(tmp_path / "state")


@pytest.fixture(scope="module")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """One ``tocsin dev`` on the demo directory, shared by the tests that need one
    running: each start of the whole stack takes seconds of both cores."""
    stack = DevStack(tmp_path_factory.mktemp("dev") / "state")
    _demo_directory_on_a_new_database(stack)
    stack.start()
    yield stack
    stack.stop()


def _demo_directory_on_a_new_database(stack: DevStack) -> None:
    """The schema first, as a deployment's migration job makes it: other commands
    only read and write a database at their revision."""
    migrated = stack.command("migrate")
    assert migrated.returncode == 0, migrated.stderr
    imported = stack.command("directory", "demo")
    assert imported.returncode == 0, imported.stderr
    centres = sum(
        o.kind is OrganisationKind.CCAS for o in demo_directory(load_territory()).organisations
    )
    assert f"{centres} ccas" in imported.stdout


def _nord_centres_as_json(stack: DevStack, event_id: str) -> None:
    centres = stack.command("status", event_id, "--department", "59", "--json")
    assert centres.returncode == 0, centres.stderr
    nord = json.loads(centres.stdout)
    assert (nord["department_code"], nord["department_name"]) == ("59", "Nord")
    assert "CCAS de Lille" in {centre["name"] for centre in nord["centres"]}
    assert nord["counts"]["centres"] == len(nord["centres"])


def _mobilisation_from_a_terminal(stack: DevStack, event_id: str) -> None:
    _nord_centres_as_json(stack, event_id)
    _progress_told(stack, event_id)


def _progress_told(stack: DevStack, event_id: str) -> None:
    """The terminal tells the mobilisation in one line rather than its log lines:
    requests handed over out of the centres ``tocsin status`` lists, and an answer
    sent by SMS once it is in."""
    pas_de_calais = stack.wait_for_centres(event_id, "62", lambda found: bool(found[0]["code"]))
    [arras] = pas_de_calais
    nord = json.loads(stack.command("status", event_id, "--department", "59", "--json").stdout)
    centres = nord["counts"]["centres"] + len(pas_de_calais)
    phone = arras["recipients"][0]["phone"]
    answered = stack.command("sms-reply", "--from", phone, f"OK {arras['code']}")
    assert answered.returncode == 0, answered.stderr
    line = re.compile(
        rf"^Mobilisation {event_id} : (\d+)/{centres} demande\(s\) remise\(s\) aux "
        r"fournisseurs, 1 réponse\(s\) dont 0 besoin\(s\) de soutien, \d+ injoignable\(s\)\.$",
        re.M,
    )
    for _ in range(300):
        if told := line.search("".join(stack.told)):
            assert 1 <= int(told.group(1)) <= centres
            return
        time.sleep(0.1)
    raise AssertionError("".join(stack.told)[-2000:])


def _log_exported(stack: DevStack, event_id: str) -> None:
    """``tocsin log export`` writes every crisis-log line, as CSV and as PDF."""
    path = stack.state_dir / "main-courante.csv"
    exported = stack.command("log", "export", event_id, "--output", str(path))
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows[0] == ["heure (Paris)", "auteur", "type", "texte"]
    assert f"{len(rows) - 1} entrée(s)" in exported.stdout and len(rows) > 5
    assert "event_declared" in {row[2] for row in rows}
    as_pdf = stack.command("log", "export", event_id, "--output", str(path.with_suffix(".pdf")))
    assert as_pdf.returncode == 0 and path.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    refused = stack.command("log", "export", event_id, "--output", str(path.with_suffix(".txt")))
    assert refused.returncode == 2 and ".csv ou .pdf" in refused.stderr


def _calm_terminal(stack: DevStack) -> None:
    """Addresses on one screen; the log lines in the state folder's dev.log."""
    assert len(stack.banner.splitlines()) <= TERMINAL_LINES, stack.banner
    assert "Traceback" not in stack.banner and "[info" not in stack.banner
    assert "dev.ready" in (stack.state_dir / "dev.log").read_text()


def test_activate_status_close_and_restart(running_stack: DevStack) -> None:
    stack = running_stack
    _calm_terminal(stack)
    activated = stack.command(
        "activate",
        "--type",
        "inondation",
        "--department",
        "59",
        "--commune",
        "62041",
        "--title",
        "Crue de la Deûle",
        "--exercise",
    )
    assert activated.returncode == 0, activated.stderr
    event_id = activated.stdout.strip()
    asked = stack.wait_for(event_id, lambda s: bool(s["designation"]["attempts"]))
    attempt = asked["designation"]["attempts"][0]
    assert attempt["contact_id"] == "unccas-representant-1"
    outbox = stack.command("outbox", "--event", event_id)
    assert "designation_request" in outbox.stdout and "+33 6 ** ** ** 04" in outbox.stdout
    answered = stack.command("sms-reply", "--from", "+33639980004", f"oui {attempt['code']}")
    assert answered.stdout.strip() == f"UNCCAS : réponse OUI {attempt['code']} bien reçue, merci."
    status = stack.wait_for(event_id, lambda s: s["mobilised_departments"] == ["59", "62"])
    _mobilisation_from_a_terminal(stack, event_id)
    _log_exported(stack, event_id)
    name = status["representative"]["person"]["name"]
    assert name == attempt["name"]
    mail = _mailbox(stack.state_dir / "sandbox-mail")
    for address in ("diav@example.org", "prefecture-59@example.org"):
        assert name in plain_text(mail[address][0]), address
    [briefing] = [
        m for m in mail["unccas-representant-1@example.org"] if "briefing" in m["Subject"]
    ]
    csv = {a.get_filename(): a.get_content() for a in briefing.iter_attachments()}
    assert "CCAS de Lille" in csv["ccas_cias_competents.csv"]
    readable = stack.command("status", event_id)
    assert f"Représentant(e) : {name} (a accepté par SMS" in readable.stdout
    assert f"{name} (tour 1, code {attempt['code']}, EMAIL+SMS) : a accepté" in readable.stdout
    assert readable.returncode == 0
    assert "[EXERCICE]" in readable.stdout
    assert "Phase : mobilisation des CCAS/CIAS" in readable.stdout
    assert "Mobilisation : " in readable.stdout and "    59 : " in readable.stdout
    assert "Crue de la Deûle" in readable.stdout
    assert "Zone déclarée : département(s) 59 et commune(s) 62041" in readable.stdout
    assert "Nord (59) : préfecture à Lille ; pas d'UD ; 647 commune(s)" in readable.stdout
    assert (
        "Pas-de-Calais (62) : préfecture à Arras ; "
        "Union départementale des CCAS - Pas-de-Calais (62) ; 1 commune(s), 1 CCAS"
    ) in readable.stdout
    assert "Territoire : 648 commune(s)" in readable.stdout
    assert "Sans CCAS ni CIAS : " in readable.stdout
    assert "Délais : réponse d'un candidat 15min" in readable.stdout
    _committee_phase_by_command(stack, event_id)

    stack.stop(signal.SIGINT)
    stack.start()
    assert stack.status(event_id)["phase"] == "committee"
    _server_journal_is_a_write_ahead_log(stack)
    _console_after_restart(stack)
    closed = stack.command("close", event_id, "--reason", "décrue")
    assert closed.returncode == 0, closed.stderr
    assert closed.stdout.strip() == f"{event_id} : retour d'expérience"
    assert stack.status(event_id)["phase"] == "review"
    again = stack.command("close", event_id)
    assert again.returncode == 1
    assert "déjà en cours" in again.stderr
    _review_by_command(stack, event_id)


def _server_journal_is_a_write_ahead_log(stack: DevStack) -> None:
    """The Temporal server's database, reopened, still writes ahead instead of
    syncing a journal file on every transaction."""
    with contextlib.closing(sqlite3.connect(stack.state_dir / "temporal.db")) as database:
        assert database.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def _console_after_restart(stack: DevStack) -> None:
    """The demo account's new password signs in; the event and its SMS are there."""
    with stack.console_session() as console:
        listed = console.get("/")
        assert "Crue de la Deûle" in listed.text and "EXERCICE" in listed.text
        assert "+33639980004" in console.get("/telephones").text


def _review_by_command(stack: DevStack, event_id: str) -> None:
    """The review under way from a terminal, as text and as JSON; no report yet, so
    the guide is empty."""
    review = stack.command("review", "status", event_id)
    assert review.returncode == 0, review.stderr
    assert "débriefing à chaud" in review.stdout
    assert "rapport pas encore établi" in review.stdout
    missing = stack.command("review", "report", event_id, "--output", "retex.pdf")
    assert missing.returncode == 1 and "pas de rapport établi" in missing.stderr
    guide = stack.command("guide", "--type", "inondation")
    assert guide.returncode == 0 and "(0 événement(s))" in guide.stdout
    as_json = stack.command("review", "status", event_id, "--json")
    assert as_json.returncode == 0, as_json.stderr
    review_status = json.loads(as_json.stdout)
    assert (review_status["event_id"], review_status["compiled_at"]) == (event_id, None)
    assert review_status["rounds"][0]["round"] == "a-chaud"
    guide_json = stack.command("guide", "--type", "inondation", "--json")
    assert guide_json.returncode == 0 and json.loads(guide_json.stdout) == []


def _committee_phase_by_command(stack: DevStack, event_id: str) -> None:
    """The committee phase from a terminal: a committee, a meeting whose invitation
    carries its .ics, and a date that is not one refused; the status as JSON."""
    started = stack.command("committee", "start", event_id)
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == f"{event_id} : suivi des comités"
    added = stack.command(
        "committee",
        "add",
        event_id,
        "--department",
        "59",
        "--name",
        "CLAV du Nord",
        "--place",
        "Préfecture du Nord, Lille",
        "--member",
        "ud-62",
    )
    assert added.returncode == 0, added.stderr
    assert "clav-59 : CLAV du Nord" in added.stdout
    when = (datetime.now() + timedelta(days=30)).strftime("%Y-%m-%d 14:30")
    scheduled = stack.command(
        "committee", "meeting", event_id, "--committee", "clav-59", "--at", when
    )
    assert scheduled.returncode == 0, scheduled.stderr
    assert "reunion-1 (clav-59)" in scheduled.stdout and "à 14h30" in scheduled.stdout
    refused = stack.command(
        "committee", "meeting", event_id, "--committee", "clav-59", "--at", "demain"
    )
    assert refused.returncode == 2 and "starts_at" in refused.stderr
    unknown = stack.command(
        "committee",
        "add",
        event_id,
        "--department",
        "59",
        "--name",
        "X",
        "--place",
        "Y",
        "--member",
        "personne",
    )
    assert unknown.returncode == 2 and "personne" in unknown.stderr
    mail = _mailbox(stack.state_dir / "sandbox-mail")
    invitations = [
        part
        for message in mail["unccas-representant-1@example.org"]
        for part in message.iter_attachments()
        if part.get_filename() == "invitation.ics"
    ]
    assert len(invitations) == 1 and b"TZID=Europe/Paris" in invitations[0].get_content()
    shown = stack.command("committee", "status", event_id, "--json")
    assert shown.returncode == 0, shown.stderr
    committee = json.loads(shown.stdout)
    assert [c["committee_id"] for c in committee["committees"]] == ["clav-59"]
    assert [(m["meeting_id"], m["committee_id"]) for m in committee["meetings"]] == [
        ("reunion-1", "clav-59")
    ]


def test_bad_input_is_refused_or_answered_politely(running_stack: DevStack) -> None:
    stack = running_stack
    workflows = stack.workflow_count()
    refused = stack.command("activate", "--type", "volcan", "--title", " ")
    assert refused.returncode == 2
    assert "volcan" in refused.stderr
    assert "indiquez au moins une commune" in refused.stderr
    assert "titre : ne doit pas être vide" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert stack.workflow_count() == workflows
    garbled = stack.command("sms-reply", "--from", "+33639980001", "OUI 48")
    assert garbled.returncode == 0
    assert garbled.stdout.startswith("UNCCAS : réponse non reconnue.")
    stopped = stack.command("sms-reply", "--from", "+33639980001", "Arrêt")
    assert "vous ne recevrez plus de SMS" in stopped.stdout
    unknown = stack.command("status", "attentat-20200101-aaaa")
    assert unknown.returncode == 1
    assert "événement inconnu" in unknown.stderr
    no_event = stack.command("designate", "attentat-20200101-aaaa", "--contact", "personne")
    assert no_event.returncode == 1 and "événement inconnu" in no_event.stderr


def test_busy_port_gives_a_clear_message(running_stack: DevStack) -> None:
    second = subprocess.run(
        [TOCSIN, "dev", "--http-port", str(running_stack.http_port), "--state-dir", "unused"],
        env=running_stack.env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert second.returncode == 1
    assert f"{running_stack.http_port} (--http-port)" in second.stderr
    assert "Traceback" not in second.stderr


def test_ctrl_c_stops_the_demo_when_its_terminal_is_gone(stack: DevStack) -> None:
    """``make demo | tee demo.log`` interrupted: Ctrl-C signals the whole foreground
    group, the Temporal server and the reader of the output with it, and the output
    is gone (here both, as when the terminal closes): every later write fails. The
    stack stops all the same, its port free for the next start."""
    process = subprocess.Popen(
        stack.dev_command("--demo"),
        env=stack.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stack._wait_healthy(process)
        children = _descendants(process.pid)
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        process.stderr.close()
        os.killpg(process.pid, signal.SIGINT)
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert code == 0
    assert not {pid for pid in children if _alive(pid)}
    assert not is_port_busy("127.0.0.1", stack.http_port)


def test_cli_without_server_explains(stack: DevStack) -> None:
    result = stack.command("status", "attentat-20200101-aaaa")
    assert result.returncode == 1
    assert "Temporal injoignable" in result.stderr
