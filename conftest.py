import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and lockout state never leak from one test into another."""
    cache.clear()
    yield
    cache.clear()
