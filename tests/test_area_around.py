"""Targeting around a point: the communes whose town hall lies within a radius of
an industrial site, listed and confirmed before anything starts."""

import html
import os
import subprocess
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from definitions.territory import load_territory
from definitions.territory.around import AreaError, communes_around, parse_point, parse_radius
from gateway.app import create_app
from store.database import Store
from tests.conftest import SCRIPTS, create_account, sign_in, workflow_count

PORT_OF_ROUEN = (49.4320, 1.0660)
"""The left bank of the port of Rouen, where SEVESO sites stand (Lubrizol, 2019)."""


def test_a_radius_around_a_seveso_site_resolves_the_communes_within_it() -> None:
    found = communes_around(load_territory(), *PORT_OF_ROUEN, radius_km=3.0)
    assert [commune.name for commune, _ in found] == [
        "Petit-Quevilly",
        "Amfreville-la-Mi-Voie",
        "Sotteville-lès-Rouen",
        "Rouen",
        "Grand-Quevilly",
    ]
    assert all(distance <= 3.0 for _, distance in found)
    wider = {
        commune.insee_code for commune, _ in communes_around(load_territory(), *PORT_OF_ROUEN, 10.0)
    }
    assert {"76157", "76575"} <= wider, "Canteleu and Saint-Étienne-du-Rouvray at 10 km"


def test_points_and_radii_are_read_as_people_write_them() -> None:
    assert parse_point(" 49.432 , 1.066 ") == (49.432, 1.066)
    assert parse_radius("10km") == 10.0
    assert parse_radius("500 m") == 0.5
    assert parse_radius("2,5") == 2.5
    for wrong in ("Rouen", "91,200"):
        with pytest.raises(AreaError):
            parse_point(wrong)
    for wrong in ("dix km", "0km", "80km"):
        with pytest.raises(AreaError):
            parse_radius(wrong)


def test_the_command_lists_the_communes_and_starts_nothing_unconfirmed(tmp_path: Path) -> None:
    declared = subprocess.run(
        [
            str(SCRIPTS / "tocsin"),
            *("activate", "--type", "accident_industriel", "--title", "Nuage toxique"),
            *("--around", "49.4320,1.0660", "--radius", "3km"),
        ],
        input="non\n",
        env={**os.environ, "TOCSIN_STATE_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert declared.returncode == 2
    assert "5 commune(s) à moins de 3 km de 49.4320,1.0660" in declared.stderr
    assert "76498 Petit-Quevilly (1.0 km)" in declared.stderr
    assert "rien n'a été lancé" in declared.stderr and declared.stdout.strip() == ""


async def test_the_console_declares_around_a_site_after_confirmation(
    dev_env: WorkflowEnvironment, store_with_network: Store, task_queue: str
) -> None:
    app = create_app(dev_env.client, store_with_network, task_queue)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as browser:
        create_account(store_with_network, "permanence")
        csrf_token = await sign_in(browser, "permanence")
        form = {
            "csrf_token": csrf_token,
            "mode": "exercice",
            "type": "accident_industriel",
            "title": "Nuage toxique",
            "places": "",
            "around": "49.4320,1.0660",
            "radius": "3km",
        }
        confirmation = await browser.post("/declarer", data=form)
        page = html.unescape(confirmation.text)
        assert confirmation.status_code == 200, page
        assert "Petit-Quevilly (76498)" in page and "Grand-Quevilly (76322)" in page
        assert "Canteleu" not in page
        assert 'name="around" value="49.4320,1.0660"' in page, "confirmed as shown"
        around_lille = await browser.post(
            "/declarer", data={**form, "around": "59350", "radius": "1km"}
        )
        assert "Lille (59350)" in html.unescape(around_lille.text)
        wrong = await browser.post("/declarer", data={**form, "radius": "cent km"})
        assert wrong.status_code == 422 and "écrivez par exemple 10km" in html.unescape(wrong.text)
    assert await workflow_count(dev_env, task_queue) == 0
