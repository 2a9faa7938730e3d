"""uWSGI's view of a Stratus storage app: built once per worker from the factory and
arguments the launching daemon put in the environment (see server.serve)."""

from __future__ import annotations

import json
import os

from common.objectstore.server import ENV_ARGV, ENV_FACTORY, load_factory

application = load_factory(os.environ[ENV_FACTORY])(json.loads(os.environ[ENV_ARGV]))
