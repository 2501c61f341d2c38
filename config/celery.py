"""The Celery app and the one beat schedule (built from config.jobs.JOBS)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("papertrade")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def build_beat_schedule() -> dict:
    from config.jobs import JOBS

    schedule = {}
    for job in JOBS:
        options = {"queue": job.queue, **job.options}
        if job.expires is not None:
            options["expires"] = job.expires
        schedule[job.name] = {"task": job.task, "schedule": job.interval, "options": options}
    return schedule


app.conf.beat_schedule = build_beat_schedule()
app.conf.task_default_queue = "default"
