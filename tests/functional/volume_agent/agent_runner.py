"""stratus-volume-agent with a stand-in image service, for tests that kill and restart it.

``python -m tests.functional.volume_agent.agent_runner --config-file FILE`` runs the real
daemon (:func:`agents.volume.daemon.main`); images are read from the file named by
``STRATUS_TEST_IMAGE_FILE`` (whatever the image id), at most ``STRATUS_TEST_FETCH_MBPS``
MB/s when set, so a test can catch a copy in the middle.
"""

from __future__ import annotations

import os
import sys
import time

from agents.volume import daemon
from agents.volume.clients import Clients

CHUNK = 4 << 20


def fetch(image_id: str):
    path = os.environ["STRATUS_TEST_IMAGE_FILE"]
    rate = float(os.environ.get("STRATUS_TEST_FETCH_MBPS") or 0) * 1e6
    started, sent = time.monotonic(), 0
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk
            sent += len(chunk)
            if rate:
                ahead = sent / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)


def upload(image_id: str, chunks) -> None:
    with open(os.path.join(os.environ["STRATUS_TEST_UPLOAD_DIR"], image_id), "wb") as out:
        for chunk in chunks:
            out.write(chunk)


if __name__ == "__main__":
    sys.exit(daemon.main(sys.argv[1:], clients=Clients(fetch=fetch, upload=upload)))
