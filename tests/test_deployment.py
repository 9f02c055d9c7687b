"""What a deployment relies on beyond one machine: replicas that start together,
a migration job, refusals of a bad configuration that say what is wrong, and the
files of ``deploy/`` (image, compose file, Kubernetes manifests, dashboard)
consistent with each other and with the settings the processes read."""

import asyncio
import json
import os
import shlex
import socket
import tomllib
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
import typer.core
import typer.main
import yaml
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from cli import main as cli
from definitions.metrics import (
    DIRECTORY_FRESH_SHARE,
    MESSAGES_DELIVERED,
    MESSAGES_FAILED,
    MESSAGES_SENT,
    OPEN_EVENTS,
    REPLIES,
)
from gateway.app import HEALTH_PATH
from store.database import MIGRATIONS_DIR, Store
from tests.conftest import SCRIPTS
from tests.deploy_files import (
    DEPLOY,
    compose,
    compose_variables,
    dashboard_queries,
    dockerfile,
    interpolated,
    kubernetes,
    kubernetes_files,
)
from tests.postgres_server import PostgresServer
from worker.settings import Settings
from worker.temporal_workers import GRACEFUL_SHUTDOWN

PYPROJECT = DEPLOY.parent / "pyproject.toml"
VERSION = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
IMAGE_VARIABLES = {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}
KINDS = {"configMapRef": "ConfigMap", "secretRef": "Secret"}
COUNTERS = (MESSAGES_SENT, MESSAGES_FAILED, MESSAGES_DELIVERED, REPLIES)
RETENTION_DAYS = 365
"""The checklist's retention: beyond an event's life and its review."""


async def _tocsin(*arguments: str, environment: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        str(SCRIPTS / "tocsin"),
        *arguments,
        env={**os.environ, **environment},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


def _revision(store: Store) -> str | None:
    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


async def test_commands_read_only_a_schema_at_their_revision(tmp_path: Path) -> None:
    """Only ``tocsin migrate``, the worker and the gateway upgrade the schema: any
    other command leaves the database as it found it and says what to do, for a
    schema behind this version as for one written by a newer version."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    migrations = ScriptDirectory.from_config(config)
    head = migrations.get_current_head()
    assert head is not None
    previous = migrations.get_revision(head).down_revision
    store = Store(f"sqlite:///{tmp_path / 'tocsin.db'}")
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, str(previous))
    environment = {"TOCSIN_DATABASE_URL": store.url}

    code, output = await _tocsin("outbox", environment=environment)
    assert code == 1, output
    assert output.strip() == (
        f"Le schéma de la base n'est pas à jour (révision {previous}, attendue {head}) : "
        "lancez `tocsin migrate`."
    )
    assert _revision(store) == previous
    code, output = await _tocsin("migrate", environment=environment)
    assert code == 0 and f"révision {previous} → {head}" in output, output
    code, output = await _tocsin("outbox", environment=environment)
    assert code == 0 and "0 message(s)." in output, output

    with store.engine.begin() as connection:
        connection.execute(sqlalchemy.text("UPDATE alembic_version SET version_num = '9999'"))
    for refused in ("outbox", "migrate"):
        code, output = await _tocsin(refused, environment=environment)
        assert code == 1, output
        assert output.strip() == (
            "La base est à la révision 9999, inconnue de cette version de Tocsin "
            f"(la plus récente qu'elle connaisse : {head}) : mettez Tocsin à jour."
        )
    store.dispose()


async def test_migration_jobs_started_together_upgrade_a_new_postgresql_database_once(
    postgres: PostgresServer,
) -> None:
    """Workers, gateways and the migration job all upgrade the schema when they
    start: started at once on an empty database, one upgrades and the others wait
    for it, then find nothing to do."""
    environment = {"TOCSIN_DATABASE_URL": postgres.new_database()}
    runs = await asyncio.gather(*(_tocsin("migrate", environment=environment) for _ in range(3)))
    assert [code for code, _ in runs] == [0, 0, 0], runs
    outputs = sorted(output for _, output in runs)
    assert [output.startswith("Schéma déjà à jour") for output in outputs] == [True, True, False]
    assert "révision aucune →" in outputs[2]


async def test_a_metrics_port_already_taken_stops_the_worker_with_a_clear_message(
    tmp_path: object,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        code, output = await _tocsin(
            "worker",
            environment={"TOCSIN_STATE_DIR": str(tmp_path), "TOCSIN_METRICS_ADDRESS": address},
        )
    assert code == 1
    assert f"Adresse des métriques inutilisable : {address}" in output


def _tocsin_commands() -> set[str]:
    group = typer.main.get_command(cli.app)
    assert isinstance(group, typer.core.TyperGroup)
    return set(group.commands)


def _dockerfile_environment() -> dict[str, str]:
    """The final stage's ENV, as every container of the image starts with."""
    environment: dict[str, str] = {}
    for keyword, rest in dockerfile():
        if keyword == "FROM":
            environment = {}
        elif keyword == "ENV":
            environment.update(dict(pair.split("=", 1) for pair in shlex.split(rest)))
    return environment


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def _settings_from(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings a process started with this environment would run on."""
    for variable in Settings.environment_names().values():
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value or "x")
    return Settings()


def test_the_image_is_multi_stage_non_root_and_serves_the_gateway_with_a_health_check() -> None:
    instructions = dockerfile()
    keywords = [keyword for keyword, _ in instructions]
    environment = _dockerfile_environment()
    assert keywords.count("FROM") >= 2
    last_from = len(keywords) - 1 - keywords[::-1].index("FROM")
    users = [rest for keyword, rest in instructions[last_from:] if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    copied = {rest.split()[0] for keyword, rest in instructions if keyword == "COPY"}
    packages = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["packages"]["find"]
    assert {package.rstrip("*") for package in packages["include"]} <= copied
    assert dict(instructions)["ENTRYPOINT"] == '["tocsin"]'
    assert json.loads(dict(instructions)["CMD"])[0] in _tocsin_commands()
    exposed = {int(port) for port in dict(instructions)["EXPOSE"].split()}
    assert exposed == {
        int(environment["TOCSIN_HTTP_PORT"]),
        _port(environment["TOCSIN_METRICS_ADDRESS"]),
    }
    assert environment["TOCSIN_HTTP_HOST"] == "0.0.0.0"
    health_check = dict(instructions)["HEALTHCHECK"]
    assert "os.environ['TOCSIN_HTTP_PORT']" in health_check and HEALTH_PATH in health_check
    assert set(environment) <= set(Settings.environment_names().values()) | IMAGE_VARIABLES


def test_the_compose_file_wires_every_service_to_the_others_and_to_known_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = compose()["services"]
    variables = compose_variables()
    image_environment = _dockerfile_environment()
    assert set(services) == {
        "postgresql",
        "temporal-schema",
        "temporal",
        "temporal-namespace",
        "temporal-ui",
        "migrate",
        "gateway",
        "worker",
        "prometheus",
    }
    for name, service in services.items():
        assert set(service.get("depends_on", [])) <= set(services), name

    tocsin = {name: service for name, service in services.items() if "build" in service}
    assert set(tocsin) == {"migrate", "gateway", "worker"}
    assert (DEPLOY / tocsin["gateway"]["build"]["dockerfile"].removeprefix("deploy/")).exists()
    assert {service["image"] for service in tocsin.values()} == {f"tocsin:{VERSION}"}
    for name, service in tocsin.items():
        assert service["command"][0] in _tocsin_commands(), name
        environment = {
            variable: interpolated(value, variables)
            for variable, value in service["environment"].items()
        }
        settings = _settings_from({**image_environment, **environment}, monkeypatch)
        database = make_url(settings.database_url)
        postgresql = services["postgresql"]["environment"]
        assert (database.host, database.username, database.database) == (
            "postgresql",
            postgresql["POSTGRES_USER"],
            postgresql["POSTGRES_DB"],
        )
        assert settings.temporal_address == "temporal:7233"
        assert settings.payload_key and settings.link_secret, "shared by every process"
        assert settings.temporal_namespace == "tocsin", name
        if name != "migrate":
            waits = service["depends_on"]["temporal-namespace"]["condition"]
            assert waits == "service_completed_successfully", name
    _temporal_as_recommended(services, variables)
    http_port = int(image_environment["TOCSIN_HTTP_PORT"])
    assert [int(port.rsplit(":", 1)[1]) for port in services["gateway"]["ports"]] == [http_port]
    assert "ports" not in services["worker"], "a published port would stop it from scaling"
    metrics_port = _port(image_environment["TOCSIN_METRICS_ADDRESS"])
    assert f"127.0.0.1:{metrics_port}/metrics" in " ".join(
        services["worker"]["healthcheck"]["test"]
    )

    prometheus = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    scraped = {
        (name, discovery["port"])
        for job in prometheus["scrape_configs"]
        for discovery in job["dns_sd_configs"]
        for name in discovery["names"]
    }
    assert scraped == {("gateway", metrics_port), ("worker", metrics_port)}


def _temporal_as_recommended(services: dict[str, Any], variables: dict[str, str]) -> None:
    """The server image on a schema the admin-tools job set up, with a database user of
    its own, and Tocsin's namespace created with the checklist's retention."""
    temporal = services["temporal"]
    assert temporal["image"].startswith("temporalio/server:")
    assert not any("auto-setup" in service.get("image", "") for service in services.values())
    version = temporal["image"].split(":")[1]
    schema = services["temporal-schema"]
    assert schema["image"] == f"temporalio/admin-tools:{version}"
    assert temporal["depends_on"]["temporal-schema"]["condition"] == (
        "service_completed_successfully"
    )
    environment = temporal["environment"]
    assert environment["POSTGRES_SEEDS"] == "postgresql"
    own_user = environment["POSTGRES_USER"]
    assert own_user != services["postgresql"]["environment"]["POSTGRES_USER"]
    user_script = (DEPLOY / "postgresql" / "temporal-user.sh").read_text()
    assert f"CREATE ROLE {own_user} LOGIN CREATEDB" in user_script
    assert any("temporal-user.sh" in volume for volume in services["postgresql"]["volumes"])
    schema_script = (DEPLOY / "temporal" / "setup-schema.sh").read_text()
    assert f"--user {own_user}" in schema_script
    assert interpolated(schema["environment"]["SQL_PASSWORD"], variables) == interpolated(
        environment["POSTGRES_PWD"], variables
    )
    namespace = services["temporal-namespace"]
    assert namespace["image"] == f"temporalio/admin-tools:{version}"
    assert namespace["environment"]["NAMESPACE"] == "tocsin"
    assert namespace["environment"]["RETENTION"] == f"{RETENTION_DAYS}d"
    assert f"retention beyond an event's life and review ({RETENTION_DAYS} days)" in (
        (DEPLOY / "CHECKLIST.md").read_text()
    )
    ui = services["temporal-ui"]["environment"]
    assert ui["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert ui["TEMPORAL_CODEC_ENDPOINT"].endswith("/codec")


def _namespace_created(job: dict[str, Any], config: dict[str, str]) -> None:
    """By the admin-tools image, with the checklist's retention, under the name the
    processes are given."""
    (creator,) = job["spec"]["template"]["spec"]["containers"]
    assert creator["image"].startswith("temporalio/admin-tools:")
    environment = {variable["name"]: variable for variable in creator["env"]}
    assert environment["RETENTION"]["value"] == f"{RETENTION_DAYS}d"
    wanted = environment["NAMESPACE"]["valueFrom"]["configMapKeyRef"]["key"]
    assert config[wanted] == config["TOCSIN_TEMPORAL_NAMESPACE"]


def _containers(objects: dict[tuple[str, str], dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: workload
        for (kind, name), workload in objects.items()
        if kind in ("Deployment", "Job")
    }


def test_the_kubernetes_manifests_are_consistent_with_each_other_and_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listed, present = kubernetes_files()
    assert listed == present, "a manifest the kustomization does not apply"
    objects = kubernetes()
    config = objects["ConfigMap", "tocsin-config"]["data"]
    secret = objects["Secret", "tocsin-secrets"]["stringData"]
    known = set(Settings.environment_names().values())
    assert set(config) <= known and set(secret) <= known
    assert {"TOCSIN_DATABASE_URL", "TOCSIN_PAYLOAD_KEY", "TOCSIN_LINK_SECRET"} <= set(secret)
    assert not set(config) & set(secret)
    settings = _settings_from({**_dockerfile_environment(), **config, **secret}, monkeypatch)
    assert make_url(settings.database_url).get_backend_name() == "postgresql"
    metrics_port = _port(settings.metrics_address)

    workloads = _containers(objects)
    _namespace_created(workloads.pop("tocsin-temporal-namespace"), config)
    assert settings.temporal_namespace == "tocsin"
    assert set(workloads) == {"tocsin-gateway", "tocsin-worker", "tocsin-migrate"}
    for name, workload in workloads.items():
        pod = workload["spec"]["template"]
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True, name
        (container,) = pod["spec"]["containers"]
        assert container["image"] == f"registry.example.org/unccas/tocsin:{VERSION}", name
        assert container["args"][0] in _tocsin_commands(), name
        for source in container["envFrom"]:
            kind, reference = next(iter(source.items()))
            assert (KINDS[kind], reference["name"]) in objects, (name, reference)
        limits, requests = container["resources"]["limits"], container["resources"]["requests"]
        assert {"cpu", "memory"} <= set(limits) & set(requests), name
        ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if probe in container:
                check = container[probe].get("httpGet") or container[probe]["tcpSocket"]
                assert check["port"] in ports, (name, probe)
        if workload["kind"] == "Deployment":
            labels = pod["metadata"]["labels"]
            assert workload["spec"]["selector"]["matchLabels"].items() <= labels.items()
            assert ports["metrics"] == metrics_port, name
            assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(metrics_port)

    gateway = workloads["tocsin-gateway"]["spec"]["template"]
    (gateway_container,) = gateway["spec"]["containers"]
    assert gateway_container["readinessProbe"]["httpGet"]["path"] == HEALTH_PATH
    http = {port["name"]: port["containerPort"] for port in gateway_container["ports"]}["http"]
    assert http == settings.http_port
    service = objects["Service", "tocsin-gateway"]["spec"]
    assert service["selector"].items() <= gateway["metadata"]["labels"].items()
    assert {port["targetPort"] for port in service["ports"]} == {"http"}

    worker = workloads["tocsin-worker"]["spec"]["template"]["spec"]
    assert worker["containers"][0]["livenessProbe"]["httpGet"]["path"] == "/metrics"
    assert worker["terminationGracePeriodSeconds"] > GRACEFUL_SHUTDOWN.total_seconds()
    autoscaler = objects["HorizontalPodAutoscaler", "tocsin-worker"]["spec"]
    assert autoscaler["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "tocsin-worker",
    }
    assert 1 <= autoscaler["minReplicas"] <= autoscaler["maxReplicas"]
    assert workloads["tocsin-migrate"]["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "migrate"
    ]


def test_the_dashboard_plots_only_metrics_tocsin_defines() -> None:
    own = {f"{name}_total" for name in COUNTERS} | {OPEN_EVENTS, DIRECTORY_FRESH_SHARE}
    plotted = {
        metric
        for query in dashboard_queries()
        for metric in query.metrics
        if metric.startswith("tocsin_")
    }
    assert plotted == own


def _locked(path: Path) -> dict[str, int]:
    """Each package of a lock file, with how many hashes it lists."""
    locked: dict[str, int] = {}
    name = ""
    for line in path.read_text().splitlines():
        if line and not line[0].isspace() and "==" in line:
            name = line.split("==")[0].lower()
            locked[name] = 0
        elif line.strip().startswith("--hash=sha256:"):
            locked[name] += 1
    return locked


def test_installs_take_the_lock_files_exact_versions_and_production_no_sandbox() -> None:
    """The image installs requirements.lock with hashes; it holds every runtime
    dependency and neither the sandboxes nor the test tools, which
    requirements-dev.lock (make test, make demo, CI) adds."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    runtime = _locked(DEPLOY.parent / "requirements.lock")
    development = _locked(DEPLOY.parent / "requirements-dev.lock")

    def names(requirements: list[str]) -> set[str]:
        return {
            requirement.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower()
            for requirement in requirements
        }

    extras = project["optional-dependencies"]
    assert names(project["dependencies"]) <= set(runtime)
    assert not names(extras["sandbox"]) & set(runtime)
    assert names(extras["sandbox"]) | names(extras["test"]) | set(runtime) <= set(development)
    assert all(runtime.values()) and all(development.values()), "a package without hash"
    installs = [rest for keyword, rest in dockerfile() if keyword == "RUN" and "pip" in rest]
    assert any("--require-hashes -r requirements.lock" in run for run in installs)
    assert any("--no-deps" in run for run in installs)
