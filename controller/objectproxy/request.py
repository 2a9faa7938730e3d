"""One client request as the proxy's controllers see it."""

from __future__ import annotations

import dataclasses

from common.objectstore.wsgi import Request
from controller.objectproxy.auth import Identity


@dataclasses.dataclass
class ProxyRequest:
    """The parsed path, the caller, and what authentication established."""

    req: Request
    trans_id: str
    account: str
    container: str | None = None
    obj: str | None = None
    identity: Identity | None = None
    tempurl: bool = False        # authorized by a TempURL signature for this path
    is_owner: bool = False       # operator of this account, or reseller admin
    is_reader: bool = False      # may read this account (reader role)

    @property
    def method(self) -> str:
        return self.req.method

    @property
    def params(self) -> dict[str, str]:
        return self.req.params

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.req.header(name, default)

    def backend_headers(self) -> dict[str, str]:
        """Headers every request to a node carries."""
        return {"X-Trans-Id": self.trans_id}
