"""Settings of bench/pages.py's ceiling server: the production settings (and so the same
middleware), with the URLs answered by pre-rendered page bytes (bench/pages_urls.py)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.pages_urls"
