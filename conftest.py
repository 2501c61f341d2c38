import pytest
from channels.layers import channel_layers
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and lockout state never leak from one test into another."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets its own channel-layer instance.

    channels-redis binds its connection pools and receive locks to the event loop that first
    used them; every async test runs on a new loop, so a layer shared across tests can leave a
    receive that never wakes up and hangs the loop's shutdown.
    """
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
