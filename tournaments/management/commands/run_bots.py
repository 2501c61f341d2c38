"""`manage.py run_bots`: keep the simulated tournament participants trading.

`make run` does not need it (its in-process scheduler runs the `tournaments-bots` job, as
Celery beat does in production); it is for driving the bots on their own, e.g. next to a
Celery worker without beat, or faster than the scheduled job.
"""

import time

from django.core.management.base import BaseCommand

from tournaments.bots import bots_step


class Command(BaseCommand):
    help = "Let the bot participants of running tournaments place orders (Ctrl-C to stop)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run one step and exit.")
        parser.add_argument(
            "--interval", type=float, default=3.0, help="Seconds between steps (default 3)."
        )

    def handle(self, *args, once: bool, interval: float, **options):
        while True:
            acted = bots_step()
            self.stdout.write(f"bots acted: {acted}")
            if once:
                return
            try:
                time.sleep(max(interval, 0.1))
            except KeyboardInterrupt:
                return
