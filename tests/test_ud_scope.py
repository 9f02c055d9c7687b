"""A departmental union follows only its own department's part of an event that
spreads further: the Nord's UD reads the Nord's centres and crisis-log lines, none
of the Pas-de-Calais, and leaves the event's broadcasts, alert levels, committees
and review to UNCCAS."""

import httpx
from temporalio.testing import WorkflowEnvironment

from definitions.accounts import Role
from definitions.event import EventDeclaration
from definitions.event_type import EventType
from definitions.loader import Definitions
from gateway.app import create_app
from store.database import Store
from store.directory import replace_directory
from tests.conftest import (
    ARRAS,
    Phone,
    api_headers,
    candidates_asked,
    create_account,
    network_and_arras,
    sign_in,
    stand_down,
    start_event,
    until_department,
    until_status,
)
from worker.temporal_workers import Messaging, running_workers


async def _paged_departments(
    gateway: httpx.AsyncClient, api: str, headers: dict[str, str]
) -> list[str]:
    """The mobilisation read one department at a time, following the cursor: the
    same departments and centres as the whole list, and their number in the total; a
    cursor naming a department not mobilised: 404."""
    whole = (await gateway.get(f"{api}/mobilisation", headers=headers)).json()
    paged: list[dict[str, object]] = []
    url: str | None = f"{api}/mobilisation?limit=1"
    while url is not None:
        page = await gateway.get(url, headers=headers)
        assert page.status_code == 200, page.text
        assert len(page.json()) == 1
        assert page.headers["X-Total-Count"] == str(len(whole))
        paged += page.json()
        after = page.headers.get("X-Next-After")
        if after is not None:
            assert page.headers["Link"] == f'<{api}/mobilisation?limit=1&after={after}>; rel="next"'
        url = f"{api}/mobilisation?limit=1&after={after}" if after else None
    assert paged == whole
    stale = await gateway.get(f"{api}/mobilisation?limit=1&after=29", headers=headers)
    assert stale.status_code == 404
    return [str(department["department_code"]) for department in paged]


async def test_a_nord_ud_reads_and_acts_only_on_the_nord_of_a_wider_event(
    time_skipping_env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    phone: Phone,
) -> None:
    client = time_skipping_env.client
    with store.session() as session:
        replace_directory(session, network_and_arras())
        session.commit()
    nord = api_headers(store, Role.UD, login="ud-nord", department="59")
    staff = api_headers(store, Role.STAFF, login="astreinte")
    declaration = EventDeclaration(
        type=EventType.INONDATION,
        communes=["59350", "62041"],
        title="Crue de la Lys",
        exercise=True,
    )
    event_id = "inondation-20261207-lys"
    transport = httpx.ASGITransport(app=create_app(client, store, task_queue))
    async with (
        running_workers(client, store, task_queue, definitions, messaging),
        httpx.AsyncClient(transport=transport, base_url="http://gateway") as gateway,
    ):
        handle = await start_event(client, task_queue, declaration, event_id)
        await until_status(handle, candidates_asked(1))
        await phone.reply("+33639980101", "oui")
        await until_status(handle, lambda s: s.mobilised_departments == ["59", "62"])
        for code in ("59", "62"):
            await until_department(client, event_id, code, lambda s: s.counts.requested == 1)
        api = f"/api/events/{event_id}"

        listed = await gateway.get("/api/events", headers=nord)
        assert [event["event_id"] for event in listed.json()] == [event_id]
        other = await gateway.get(f"{api}/mobilisation?department=62", headers=nord)
        assert other.json() == []
        assert await _paged_departments(gateway, api, staff) == ["59", "62"]
        assert await _paged_departments(gateway, api, nord) == ["59"]
        counts = (await gateway.get(f"{api}/mobilisation/counts", headers=nord)).json()
        assert list(counts["departments"]) == ["59"]
        assert counts["total"]["centres"] == 1
        arras = await gateway.get(f"{api}/mobilisation/62/centres/{ARRAS}", headers=nord)
        assert arras.status_code == 403
        lille = await gateway.get(f"{api}/mobilisation/59/centres/ccas-59350", headers=nord)
        assert lille.status_code == 200

        staff_log = (await gateway.get(f"{api}/crisis-log", headers=staff)).json()
        assert any(line["text"].startswith("Mobilisation Pas-de-Calais") for line in staff_log)
        nord_log = (await gateway.get(f"{api}/crisis-log", headers=nord)).json()
        texts = [line["text"] for line in nord_log]
        assert any(text.startswith("Mobilisation Nord (59)") for text in texts)
        assert not [line for line in nord_log if "/mobilisation-62/" in line["entry_key"]]
        assert len(nord_log) == len(staff_log) - 2
        page = await gateway.get(f"{api}/crisis-log?limit=500", headers=nord)
        assert page.headers["X-Total-Count"] == str(len(nord_log))
        csv = (await gateway.get(f"{api}/crisis-log.csv", headers=nord)).text
        assert "Mobilisation Nord" in csv and "Mobilisation Pas-de-Calais" not in csv

        refused = [
            await gateway.post(f"{api}/broadcast", json={"text": "Point"}, headers=nord),
            await gateway.post(f"{api}/alert-level", json={"level": "vigilance"}, headers=nord),
            await gateway.get(f"{api}/committee", headers=nord),
            await gateway.get(f"{api}/review", headers=nord),
        ]
        assert [response.status_code for response in refused] == [403] * 4
        assert "l'astreinte UNCCAS le conduit" in refused[0].json()["detail"]

        create_account(store, "ud-nord-console", Role.UD, department="59")
        await sign_in(gateway, "ud-nord-console")
        situation = await gateway.get(f"/evenements/{event_id}")
        assert situation.status_code == 200
        assert "CCAS de Lille" in situation.text and "CCAS d'Arras" not in situation.text
        await stand_down(handle)


async def test_a_ud_reaches_an_event_once_extended_into_its_department(
    time_skipping_env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
) -> None:
    client = time_skipping_env.client
    with store.session() as session:
        replace_directory(session, network_and_arras())
        session.commit()
    nord = api_headers(store, Role.UD, login="ud-nord", department="59")
    staff = api_headers(store, Role.STAFF, login="astreinte")
    declaration = EventDeclaration(
        type=EventType.INONDATION, communes=["62041"], title="Crue de la Scarpe", exercise=True
    )
    event_id = "inondation-20261207-scarpe"
    transport = httpx.ASGITransport(app=create_app(client, store, task_queue))
    async with (
        running_workers(client, store, task_queue, definitions, messaging),
        httpx.AsyncClient(transport=transport, base_url="http://gateway") as gateway,
    ):
        handle = await start_event(client, task_queue, declaration, event_id)
        await until_status(handle, lambda status: status.territory is not None)
        api = f"/api/events/{event_id}"
        assert (await gateway.get(f"{api}", headers=nord)).status_code == 403
        extended = await gateway.post(f"{api}/area", json={"communes": ["59350"]}, headers=staff)
        assert extended.status_code == 200, extended.text

        listed = await gateway.get("/api/events", headers=nord)
        assert [event["event_id"] for event in listed.json()] == [event_id]
        status = await gateway.get(f"{api}", headers=nord)
        assert status.status_code == 200
        assert status.json()["communes"] == ["62041", "59350"]
        log = (await gateway.get(f"{api}/crisis-log", headers=nord)).json()
        assert any(line["text"].startswith("Zone étendue par astreinte") for line in log)
        await stand_down(handle)
