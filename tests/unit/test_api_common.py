from __future__ import annotations

import flask
import pytest

from controller import exceptions
from controller.api import microversions, pagination
from controller.api.microversions import Version

app = flask.Flask(__name__)


@pytest.mark.parametrize(("header", "expected"), [
    (None, "2.1"), ("compute 2.5", "2.5"), ("compute latest", "2.90"),
    ("volume 3.0, compute 2.10", "2.10"),
])
def test_microversion_negotiation(header, expected):
    headers = {"OpenStack-API-Version": header} if header else {}
    with app.test_request_context(headers=headers):
        got = microversions.negotiate("compute", Version(2, 1), Version(2, 90))
    assert str(got) == expected


@pytest.mark.parametrize(("header", "error"), [
    ("compute 3.0", exceptions.NotAcceptable), ("compute 2.91", exceptions.NotAcceptable),
    ("compute two", exceptions.BadRequest),
])
def test_microversion_out_of_range(header, error):
    with app.test_request_context(headers={"OpenStack-API-Version": header}):
        with pytest.raises(error):
            microversions.negotiate("compute", Version(2, 1), Version(2, 90))


def test_page_with_marker_and_next_link():
    items = [str(i) for i in range(10)]
    with app.test_request_context("/servers?limit=3&name=x"):
        page, more = pagination.page(items, 3, "2", str)
        assert page == ["3", "4", "5"] and more
        link = pagination.links(page, more, str)[0]["href"]
        assert "marker=5" in link and "name=x" in link
        with pytest.raises(exceptions.BadRequest):
            pagination.page(items, 3, "nope", str)


def test_sort_args_reject_unknown_keys():
    with app.test_request_context("/?sort_key=name&sort_dir=asc"):
        assert pagination.sort_args(["name"]) == [("name", "asc")]
    with app.test_request_context("/?sort=evil"):
        with pytest.raises(exceptions.BadRequest):
            pagination.sort_args(["name"])
