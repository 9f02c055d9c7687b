"""What the gateway does before its first request: the territory loaded in a thread
(never on the event loop by a declaration or a guide diffusion), and definitions
with a problem refused, as the worker refuses them."""

from temporalio.testing import WorkflowEnvironment

from definitions.territory import load_territory
from gateway.app import create_app
from store.database import Store


async def test_the_territory_is_loaded_before_the_first_request(
    dev_env: WorkflowEnvironment, store: Store
) -> None:
    load_territory.cache_clear()
    app = create_app(dev_env.client, store, "unused")
    assert load_territory.cache_info().currsize == 0
    async with app.router.lifespan_context(app):
        assert load_territory.cache_info().currsize == 1
