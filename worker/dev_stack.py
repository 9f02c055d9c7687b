"""``tocsin dev``: Temporal dev server, worker and gateway in one command. Its
terminal tells the story (addresses, the demo's steps, warnings); every log line
goes to ``dev.log`` in the state folder, and to the terminal too with --verbose."""

import asyncio
import contextlib
import logging
import secrets
from datetime import UTC, datetime

import structlog
from anyio import to_thread
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker

from cli.directory import write_and_import_demo
from definitions.accounts import AccountRequest, Role
from definitions.event import Phase
from definitions.mobilisation import SupportCounts
from operations.mobilisation_reads import MobilisationReads
from store import accounts, directory
from store.database import Store
from store.tables import EventRow
from worker.asgi_server import AsgiServer, AsgiServerError
from worker.demo import demo_definitions, run_demo
from worker.demo_freshness import seed_freshness
from worker.dev_server import DevServerError, TemporalDevServer
from worker.logging import log_to_file, say
from worker.ports import busy_ports_message
from worker.process_signals import run_until_stopped, stop_on_signals
from worker.processes import gateway_app, load_definitions_or_explain, open_upgraded_store
from worker.sandbox.providers import SandboxProviders, start_sandboxes
from worker.settings import Settings
from worker.temporal_workers import build_workers, messaging_from, shut_down

log = structlog.get_logger(__name__)

DEMO_CLOSE_AFTER_SECONDS = 20.0
LOG_FILE = "dev.log"
PROGRESS_EVERY_SECONDS = 5.0

DEMO_LOGIN = "permanence"
DEMO_UD_LOGIN = "ud-nord"
"""With ``--demo``: a departmental union's account, to see what a UD reaches."""


def _banner(
    settings: Settings, sandboxes: SandboxProviders, password: str, demo: bool, fiches: int
) -> str:
    ud = (
        [f"  Compte d'UD     : identifiant {DEMO_UD_LOGIN}, même mot de passe (Nord, 59)"]
        if demo
        else []
    )
    lines = [
        "Tocsin dev est prêt.",
        f"  Console         : {settings.gateway_url}  "
        f"(identifiant {DEMO_LOGIN}, mot de passe {password})",
        *ud,
        f"  Fiches pratiques: {settings.gateway_url}/fiches ({fiches} fiches, sans compte)",
        f"  API             : {settings.gateway_url}/api  "
        f"(schéma : {settings.gateway_url}/openapi.json)",
        f"  Temporal UI     : {settings.temporal_ui_url}",
        f"  Temporal        : {settings.temporal_address} "
        f"(espace de noms {settings.temporal_namespace})",
        f"  Dossier d'état  : {settings.state_dir}",
        f"  Journaux        : {settings.state_dir / LOG_FILE} (--verbose : ici aussi)",
        *sandboxes.describe(),
    ]
    exports = []
    if settings.temporal_port != Settings.model_fields["temporal_port"].default:
        exports.append(f"export TOCSIN_TEMPORAL_PORT={settings.temporal_port}")
    if settings.state_dir != Settings.model_fields["state_dir"].default:
        exports.append(f"export TOCSIN_STATE_DIR={settings.state_dir}")
    if exports:
        lines.append("  Pour les autres commandes tocsin : " + " ; ".join(exports))
    lines.append("Arrêt : Ctrl-C.")
    return "\n".join(lines)


async def run_dev_stack(settings: Settings, demo: bool, *, verbose: bool = False) -> int:
    busy = busy_ports_message(
        "127.0.0.1",
        {
            "--http-port": settings.http_port,
            "--temporal-port": settings.temporal_port,
            "--temporal-ui-port": settings.temporal_ui_port,
        },
    )
    if busy:
        say(busy, err=True)
        return 1
    definitions = load_definitions_or_explain(settings)
    if definitions is None:
        return 1
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    log_to_file(
        settings.state_dir / LOG_FILE, terminal_level=logging.NOTSET if verbose else logging.WARNING
    )
    store = open_upgraded_store(settings)
    if store is None:
        return 1
    if demo:
        _ensure_demo_directory(settings, store)
        definitions = demo_definitions(definitions)
    password = _reset_demo_accounts(store, demo)
    stop = stop_on_signals()
    server = TemporalDevServer(settings)
    tasks: list[asyncio.Task[None]] = []
    narrations: list[asyncio.Task[object]] = []
    gateway: AsgiServer | None = None
    workers: list[Worker] = []
    sandboxes: SandboxProviders | None = None
    try:
        sandboxes = await start_sandboxes(settings)
        settings = sandboxes.settings
        client = await server.start()
        workers = build_workers(
            client, store, settings.task_queue, definitions, messaging_from(settings)
        )
        gateway = AsgiServer(
            gateway_app(client, store, settings, phone_simulator=sandboxes.twilio is not None),
            settings.http_host,
            settings.http_port,
        )
        tasks = [*(asyncio.create_task(worker.run()) for worker in workers), await gateway.start()]
        say(_banner(settings, sandboxes, password, demo, len(definitions.fiches.fiches)))
        log.info("dev.ready", temporal_pid=server.pid)
        narrations = _narrations(client, settings, store, demo)
        await run_until_stopped(stop, *tasks)
        return 0
    except (DevServerError, AsgiServerError) as error:
        say(f"Erreur : {error}", err=True)
        return 1
    finally:
        say("Arrêt de Tocsin dev…", err=True)
        for narration in narrations:
            narration.cancel()
        if gateway is not None:
            gateway.stop()
        await shut_down(workers)
        for task in tasks:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task
        await server.stop()
        if sandboxes is not None:
            sandboxes.stop()
        store.dispose()


def _narrations(
    client: Client, settings: Settings, store: Store, demo: bool
) -> list[asyncio.Task[object]]:
    """What the terminal tells: the mobilisations' progress, and the demo if asked."""
    narrations: list[asyncio.Task[object]] = [
        asyncio.create_task(_tell_progress(MobilisationReads(client, store), store))
    ]
    if demo:
        demo_task = asyncio.create_task(run_demo(client, settings, store, DEMO_CLOSE_AFTER_SECONDS))
        demo_task.add_done_callback(_report_demo_failure)
        narrations.append(demo_task)
    return narrations


def _mobilising(store: Store) -> list[str]:
    with store.session() as session:
        query = select(EventRow.id).where(EventRow.phase == Phase.MOBILISATION.value)
        return list(session.exec(query).all())


def _progress_line(event_id: str, total: SupportCounts) -> str:
    answered = total.mobilised + total.needs_support
    return (
        f"Mobilisation {event_id} : {total.requested}/{total.centres} demande(s) remise(s) "
        f"aux fournisseurs, {answered} réponse(s) dont {total.needs_support} besoin(s) de "
        f"soutien, {total.unreachable} injoignable(s)."
    )


async def _tell_progress(reads: MobilisationReads, store: Store) -> None:
    """A line per mobilising event whenever its counts move, rather than the
    thousands of log lines of a national activation."""
    told: dict[str, str] = {}
    while True:
        await asyncio.sleep(PROGRESS_EVERY_SECONDS)
        try:
            for event_id in await to_thread.run_sync(_mobilising, store):
                line = _progress_line(event_id, (await reads.overview(event_id)).total)
                if told.get(event_id) != line:
                    say(line)
                    told[event_id] = line
        except (RPCError, SQLAlchemyError) as error:
            log.info("dev.progress_unavailable", error=str(error))


def _ensure_demo_directory(settings: Settings, store: Store) -> None:
    """The demo needs people to call: the fictional directory, unless one is there;
    and a history of confirmations, so that its freshness shows something."""
    with store.session() as session:
        empty = directory.is_empty(session)
    if empty:
        imported = write_and_import_demo(settings, settings.state_dir / "demo-directory")
        say(f"Annuaire de démonstration importé : {directory.directory_summary(imported)}.")
    with store.session() as session:
        seed_freshness(session)
        session.commit()


def _reset_demo_accounts(store: Store, demo: bool) -> str:
    """The staff account of the local console (and, for the demo, a UD's), with a
    fresh password at each start."""
    password = secrets.token_urlsafe(12)
    staff = AccountRequest(
        login=DEMO_LOGIN, name="Permanence (démo)", role=Role.STAFF, password=password
    )
    ud = AccountRequest(
        login=DEMO_UD_LOGIN,
        name="UDCCAS du Nord (démo)",
        role=Role.UD,
        department="59",
        password=password,
    )
    wanted = [staff, ud] if demo else [staff]
    with store.session() as session:
        for request in wanted:
            if accounts.account_named(session, request.login) is None:
                accounts.create_account(session, request, datetime.now(UTC))
            else:
                accounts.set_password(session, request.login, password)
        session.commit()
    return password


def _report_demo_failure(task: asyncio.Task[str]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("demo.failed", error=str(task.exception()))
