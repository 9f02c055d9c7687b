"""Targeting around a point: the communes whose town hall lies within a radius of
an industrial site, listed and confirmed before anything starts."""

import os
import subprocess
from pathlib import Path

import pytest

from definitions.territory import load_territory
from definitions.territory.around import AreaError, communes_around, parse_point, parse_radius
from tests.conftest import SCRIPTS

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
