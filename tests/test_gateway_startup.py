"""What the gateway does before its first request: the territory loaded in a thread
(never on the event loop by a declaration or a guide diffusion), and definitions
with a problem refused, as the worker refuses them."""

import os
import subprocess
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from definitions.loader import DefinitionsError
from definitions.territory import load_territory
from gateway.app import create_app
from store.database import Store
from tests.conftest import SCRIPTS
from worker.ports import free_port


async def test_the_territory_is_loaded_before_the_first_request(
    dev_env: WorkflowEnvironment, store: Store
) -> None:
    load_territory.cache_clear()
    app = create_app(dev_env.client, store, "unused")
    assert load_territory.cache_info().currsize == 0
    async with app.router.lifespan_context(app):
        assert load_territory.cache_info().currsize == 1


def _broken_fiche(folder: Path) -> Path:
    fiche = folder / "fiches" / "sans-entete.md"
    fiche.parent.mkdir(parents=True)
    fiche.write_text("# Titre\n", encoding="utf-8")
    return fiche


def test_tocsin_api_refuses_a_broken_fiche(store: Store, tmp_path: Path) -> None:
    fiche = _broken_fiche(tmp_path / "definitions")
    env = {
        **os.environ,
        "TOCSIN_DATABASE_URL": store.url,
        "TOCSIN_STATE_DIR": str(tmp_path / "state"),
        "TOCSIN_DEFINITIONS_DIR": str(tmp_path / "definitions"),
        "TOCSIN_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "TOCSIN_HTTP_PORT": str(free_port()),
    }
    refused = subprocess.run(
        [str(SCRIPTS / "tocsin"), "api"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1
    assert "Définitions invalides :" in refused.stderr
    assert f"{fiche} : en-tête absent" in refused.stderr


async def test_an_embedded_gateway_refuses_a_broken_fiche(
    dev_env: WorkflowEnvironment, store: Store, tmp_path: Path
) -> None:
    _broken_fiche(tmp_path)
    with pytest.raises(DefinitionsError, match=r"sans-entete\.md : en-tête absent"):
        create_app(dev_env.client, store, "unused", definitions_dir=tmp_path)
