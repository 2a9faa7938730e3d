"""`stratus-manage bootstrap`: the admin, the default roles and the catalog, idempotently."""

from __future__ import annotations

import dataclasses
import logging

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.db.models.identity import CatalogService, Endpoint, Region
from controller.identity import (
    assignments,
    catalog,
    domains,
    passwords,
    projects,
    roles,
    users,
)
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)

DEFAULT_ROLES = ("admin", "member", "reader", "service")
SERVICE_PROJECT = "service"
# The service user acts for every project (image data, ports, volumes): admin, plus the
# service role that policies name for service-to-service calls.
SERVICE_ROLES = ("admin", "service")

# (type, name, path below the API's public URL). Each service adds itself here.
CATALOG = [
    ("identity", "keystone", "/identity"),
    ("image", "glance", "/image"),
    ("compute", "nova", "/compute/v2.1"),
    ("network", "neutron", "/network"),
    ("block-storage", "cinderv3", "/volume/v3/%(project_id)s"),
    ("volumev3", "cinderv3", "/volume/v3/%(project_id)s"),
]


@dataclasses.dataclass
class Options:
    admin_password: str
    public_url: str
    admin_user: str = "admin"
    admin_project: str = "admin"
    region: str = "RegionOne"
    demo_password: str | None = None
    # The user daemons authenticate as ([service_auth]); None: not created.
    service_password: str | None = None
    service_user: str = "stratus"
    extra_catalog: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)


def _ensure(find, create):
    try:
        return find()
    except exceptions.NotFound:
        return create()


def run(rt: Runtime, opts: Options) -> dict[str, str]:
    """Create whatever is missing; return the IDs of what stack.sh and tests need."""
    ctx = RequestContext.admin()
    domain_id = rt.conf.identity.default_domain_id
    _ensure(lambda: domains.get(rt, domain_id),
            lambda: domains.create(rt, ctx, {"id": domain_id, "name": "Default",
                                              "description": "The default domain"}))
    role_ids = {name: _ensure(lambda n=name: roles.find_by_name(rt, n),
                              lambda n=name: roles.create(rt, ctx, {"name": n})).id
                for name in DEFAULT_ROLES}
    admin_project = _ensure_project(rt, ctx, opts.admin_project, domain_id)
    service_project = _ensure_project(rt, ctx, SERVICE_PROJECT, domain_id)
    admin = _ensure_user(rt, ctx, opts.admin_user, opts.admin_password, domain_id)
    assignments.grant(rt, ctx, "user", admin.id, "project", admin_project.id, role_ids["admin"])
    result = {"admin_user_id": admin.id, "admin_project_id": admin_project.id}
    if opts.demo_password:
        demo_project = _ensure_project(rt, ctx, "demo", domain_id)
        demo = _ensure_user(rt, ctx, "demo", opts.demo_password, domain_id)
        for role in ("member", "reader"):
            assignments.grant(rt, ctx, "user", demo.id, "project", demo_project.id,
                              role_ids[role])
        result.update(demo_user_id=demo.id, demo_project_id=demo_project.id)
    if opts.service_password:
        service_user = _ensure_user(rt, ctx, opts.service_user, opts.service_password,
                                    domain_id)
        for role in SERVICE_ROLES:
            assignments.grant(rt, ctx, "user", service_user.id, "project", service_project.id,
                              role_ids[role])
        result.update(service_user_id=service_user.id, service_project_id=service_project.id)
    _ensure_catalog(rt, ctx, opts)
    return result


def _ensure_project(rt, ctx, name, domain_id):
    return _ensure(lambda: projects.find(rt, name=name, domain_id=domain_id),
                   lambda: projects.create(rt, ctx, {"name": name, "domain_id": domain_id}))


def _ensure_user(rt, ctx, name, password, domain_id):
    user = _ensure(lambda: users.find(rt, name=name, domain_id=domain_id),
                   lambda: users.create(rt, ctx, {"name": name, "password": password,
                                                  "domain_id": domain_id}))
    if not user.enabled or not passwords.check_secret(password, user.password_hash):
        user = users.update(rt, ctx, user.id, {"password": password, "enabled": True})
    return user


def _ensure_catalog(rt: Runtime, ctx: RequestContext, opts: Options) -> None:
    with rt.db.session() as session:
        has_region = session.get(Region, opts.region) is not None
    if not has_region:
        catalog.create_region(rt, ctx, {"id": opts.region})
    base = opts.public_url.rstrip("/")
    for service_type, name, path in CATALOG + opts.extra_catalog:
        url = path if "://" in path else base + path
        with rt.db.session() as session:
            service = session.scalars(sa.select(CatalogService).where(
                CatalogService.type == service_type)).first()
            service_id = service.id if service else None
        if service_id is None:
            service_id = catalog.create_service(rt, ctx, {"type": service_type,
                                                          "name": name}).id
        for interface in ("public", "internal", "admin"):
            with rt.db.session() as session:
                endpoint = session.scalars(sa.select(Endpoint).where(
                    Endpoint.service_id == service_id,
                    Endpoint.interface == interface)).first()
            if endpoint is None:
                catalog.create_endpoint(rt, ctx, {"service_id": service_id,
                                                  "interface": interface, "url": url,
                                                  "region_id": opts.region})
            elif endpoint.url != url:
                catalog.update_endpoint(rt, ctx, endpoint.id, {"url": url})
