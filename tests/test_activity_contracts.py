"""The typed stubs through which workflows call activities (workflows/activity_stubs.py)
match the activities the workers really register: the same names, parameters and
result types. An activity changed without its stub, or registered without one,
fails here instead of in a running event."""

import inspect
from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.testing import WorkflowEnvironment

from definitions.loader import Definitions
from store.database import Store
from worker.temporal_workers import Messaging, running_workers
from workflows import activity_stubs

Signature = tuple[list[tuple[str, Any]], Any]


def _name(function: Callable[..., Any]) -> str:
    """The name ``@activity.defn`` gave, read as the worker reads it."""
    name = activity._Definition.must_from_callable(function).name
    assert name is not None, function
    return name


def _signature(function: Callable[..., Any]) -> Signature:
    """Parameter names and types (``self`` left out), and the result type."""
    signature = inspect.signature(function, eval_str=True)
    parameters = [(p.name, p.annotation) for p in signature.parameters.values()]
    return parameters, signature.return_annotation


def _stubs() -> dict[str, Callable[..., Any]]:
    return {
        _name(stub): stub
        for stub in vars(activity_stubs).values()
        if inspect.isfunction(stub) and activity._Definition.from_callable(stub) is not None
    }


async def test_every_stub_matches_the_activity_registered_under_its_name(
    time_skipping_env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
) -> None:
    registered: dict[str, list[Callable[..., Any]]] = {}
    async with running_workers(
        time_skipping_env.client, store, task_queue, definitions, messaging
    ) as workers:
        for worker in workers:
            for function in worker.config()["activities"]:
                registered.setdefault(_name(function), []).append(function)
    stubs = _stubs()
    assert sorted(stubs) == sorted(registered), "a stub for each activity, and no other"
    for name, stub in stubs.items():
        assert stub.__name__ == name, "workflows/store_calls.py tells reads by this name"
        for function in registered[name]:
            assert _signature(function) == _signature(stub), name
