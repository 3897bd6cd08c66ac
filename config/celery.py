"""The Celery app. Its configuration is the ``CELERY_*`` block of config/settings.py.

Queues: ``default`` (housekeeping), ``analytics`` (rollups, metrics) and ``actions``
(messages sent to chat platforms). The embedded worker serves all three; at scale each
queue gets its own workers (``celery -A config worker -Q actions``).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("communityops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["config"], related_name="health")

transport_options = app.conf.broker_transport_options or {}
for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
    if key in transport_options:
        # The filesystem broker expects its folders to exist.
        os.makedirs(transport_options[key], exist_ok=True)
