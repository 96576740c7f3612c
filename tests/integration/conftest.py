"""Fixtures of the integration layer: the real broker, workers, the browser and the alert receivers.

They are imported here rather than listed in the root conftest's ``pytest_plugins`` so that
``pytest tests/unit`` (the fast layer) never imports selenium, aiosmtpd or the broker harness.
"""

from tests.fixtures.browser import browser as browser
from tests.fixtures.ingest import start_ingest as start_ingest
from tests.fixtures.kafka import kafka_bootstrap as kafka_bootstrap
from tests.fixtures.kafka import kafka_broker as kafka_broker
from tests.fixtures.kafka import restartable_broker as restartable_broker
from tests.fixtures.kafka import unique_name as unique_name
from tests.fixtures.receivers import smtp_server as smtp_server
from tests.fixtures.receivers import webhook_receiver as webhook_receiver
from tests.fixtures.worker import module_worker as module_worker
from tests.fixtures.worker import start_worker as start_worker
