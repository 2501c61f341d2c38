"""Serve the platform with daphne, plus the in-process job scheduler in the embedded topology."""

import asyncio
import logging

from django.conf import settings
from django.core.management.base import BaseCommand

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run daphne on HOST:PORT. With JOBS_RUNNER=inprocess (the embedded default) the "
        "scheduled jobs run inside this process; with JOBS_RUNNER=celery, Celery beat runs them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-scheduler", action="store_true", help="never start the in-process scheduler"
        )

    def handle(self, *args, host: str, port: int, no_scheduler: bool, **options):
        # daphne.server installs Twisted's asyncio reactor on import, so it comes first.
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server
        from twisted.internet import defer, reactor

        from config.asgi import application
        from config.scheduler import InProcessScheduler

        scheduler = None
        if settings.JOBS_RUNNER == "inprocess" and not no_scheduler:
            scheduler = InProcessScheduler()
            scheduler.register_configured_jobs()

        def on_ready() -> None:
            if scheduler is not None:
                scheduler.start()
                names = ", ".join(job.name for job in scheduler.jobs) or "none registered"
                self.stdout.write(f"In-process scheduler running: {names}")
            self.stdout.write(self.style.SUCCESS(f"Papertrade is serving http://{host}:{port}/"))

        def on_shutdown():
            if scheduler is None:
                return None
            return defer.Deferred.fromFuture(asyncio.ensure_future(scheduler.stop()))

        reactor.addSystemEventTrigger("before", "shutdown", on_shutdown)
        Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            ready_callable=on_ready,
            verbosity=0,
        ).run()
