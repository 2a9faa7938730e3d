"""The service catalog: regions, services and endpoints."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller import exceptions
from controller.db.base import new_id
from controller.db.models.identity import CatalogService, Endpoint, Region
from controller.identity import store
from controller.runtime import Runtime

SERVICE_FIELDS = ("type", "name", "description", "enabled")
ENDPOINT_FIELDS = ("service_id", "interface", "url", "region_id", "enabled")
REGION_FIELDS = ("description", "parent_region_id")


# --- regions -------------------------------------------------------------------------

def create_region(rt: Runtime, ctx: RequestContext, values: dict[str, Any]) -> Region:
    with rt.db.session() as session:
        if values.get("parent_region_id"):
            store.get(session, Region, values["parent_region_id"], "region")
        region = Region(id=values.get("id") or new_id(),
                        **{f: values[f] for f in REGION_FIELDS if f in values})
        store.insert(session, region, "Conflict occurred attempting to store region - "
                     f"Duplicate ID, {region.id}.")
    return region


def get_region(rt: Runtime, region_id: str) -> Region:
    with rt.db.session() as session:
        return store.get(session, Region, region_id, "region")


def list_regions(rt: Runtime, filters: dict[str, Any]) -> list[Region]:
    with rt.db.session() as session:
        return store.listing(session, Region, filters)


def update_region(rt: Runtime, ctx: RequestContext, region_id: str,
                  values: dict[str, Any]) -> Region:
    with rt.db.session() as session:
        region = store.get(session, Region, region_id, "region")
        if values.get("parent_region_id") == region_id:
            raise exceptions.BadRequest("A region cannot be its own parent.")
        store.apply(region, values, REGION_FIELDS)
        store.save(session, region, "Conflict occurred attempting to update region.")
    return region


def delete_region(rt: Runtime, ctx: RequestContext, region_id: str) -> None:
    with rt.db.session() as session:
        region = store.get(session, Region, region_id, "region")
        if store.exists(session, sa.select(Region.id).where(
                Region.parent_region_id == region_id)):
            raise exceptions.Forbidden("Cannot delete a region that has child regions.")
        session.execute(sa.update(Endpoint).where(Endpoint.region_id == region_id)
                        .values(region_id=None))
        store.delete(session, region)


# --- services ------------------------------------------------------------------------

def create_service(rt: Runtime, ctx: RequestContext, values: dict[str, Any]) -> CatalogService:
    with rt.db.session() as session:
        service = CatalogService(id=new_id(),
                                 **{f: values[f] for f in SERVICE_FIELDS if f in values})
        store.insert(session, service, "Conflict occurred attempting to store service.")
    rt.notify(ctx, "identity.service.created", {"resource_info": service.id})
    return service


def get_service(rt: Runtime, service_id: str) -> CatalogService:
    with rt.db.session() as session:
        return store.get(session, CatalogService, service_id, "service")


def list_services(rt: Runtime, filters: dict[str, Any]) -> list[CatalogService]:
    with rt.db.session() as session:
        return store.listing(session, CatalogService, filters)


def update_service(rt: Runtime, ctx: RequestContext, service_id: str,
                   values: dict[str, Any]) -> CatalogService:
    with rt.db.session() as session:
        service = store.get(session, CatalogService, service_id, "service")
        store.apply(service, values, SERVICE_FIELDS)
        store.save(session, service, "Conflict occurred attempting to update service.")
    return service


def delete_service(rt: Runtime, ctx: RequestContext, service_id: str) -> None:
    with rt.db.session() as session:
        service = store.get(session, CatalogService, service_id, "service")
        session.execute(sa.delete(Endpoint).where(Endpoint.service_id == service_id))
        store.delete(session, service)


# --- endpoints -----------------------------------------------------------------------

def _check_endpoint_refs(session: orm.Session, values: dict[str, Any]) -> None:
    if "service_id" in values:
        store.get(session, CatalogService, values["service_id"], "service")
    if values.get("region_id"):
        store.get(session, Region, values["region_id"], "region")


def create_endpoint(rt: Runtime, ctx: RequestContext, values: dict[str, Any]) -> Endpoint:
    with rt.db.session() as session:
        _check_endpoint_refs(session, values)
        endpoint = Endpoint(id=new_id(),
                            **{f: values[f] for f in ENDPOINT_FIELDS if f in values})
        store.insert(session, endpoint, "Conflict occurred attempting to store endpoint.")
    return endpoint


def get_endpoint(rt: Runtime, endpoint_id: str) -> Endpoint:
    with rt.db.session() as session:
        return store.get(session, Endpoint, endpoint_id, "endpoint")


def list_endpoints(rt: Runtime, filters: dict[str, Any]) -> list[Endpoint]:
    with rt.db.session() as session:
        return store.listing(session, Endpoint, filters)


def update_endpoint(rt: Runtime, ctx: RequestContext, endpoint_id: str,
                    values: dict[str, Any]) -> Endpoint:
    with rt.db.session() as session:
        endpoint = store.get(session, Endpoint, endpoint_id, "endpoint")
        _check_endpoint_refs(session, values)
        store.apply(endpoint, values, ENDPOINT_FIELDS)
        store.save(session, endpoint, "Conflict occurred attempting to update endpoint.")
    return endpoint


def delete_endpoint(rt: Runtime, ctx: RequestContext, endpoint_id: str) -> None:
    with rt.db.session() as session:
        store.delete(session, store.get(session, Endpoint, endpoint_id, "endpoint"))


# --- the catalog as tokens carry it ----------------------------------------------------

def build(session: orm.Session) -> list[dict[str, Any]]:
    """Enabled services with their enabled endpoints, in the token's catalog format."""
    services = {s.id: s for s in session.scalars(
        sa.select(CatalogService).where(CatalogService.enabled.is_(True)))}
    entries: dict[str, dict[str, Any]] = {}
    for endpoint in session.scalars(sa.select(Endpoint).where(Endpoint.enabled.is_(True))
                                    .order_by(Endpoint.id)):
        service = services.get(endpoint.service_id)
        if service is None:
            continue
        entry = entries.setdefault(service.id, {
            "endpoints": [], "id": service.id, "type": service.type, "name": service.name})
        entry["endpoints"].append({
            "id": endpoint.id, "interface": endpoint.interface, "region_id": endpoint.region_id,
            "url": endpoint.url, "region": endpoint.region_id})
    return sorted(entries.values(), key=lambda e: (e["type"], e["name"]))


def for_scope(entries: list[dict[str, Any]], project_id: str | None) -> list[dict[str, Any]]:
    """The catalog as one token sees it: `%(project_id)s` and `%(tenant_id)s` in endpoint
    URLs become the token's project ID; an endpoint that needs a project is left out of
    tokens that have none, as Keystone does."""
    scoped = []
    for entry in entries:
        endpoints = []
        for endpoint in entry["endpoints"]:
            url = endpoint["url"]
            if "%(" in url:
                if project_id is None:
                    continue
                url = url.replace("%(project_id)s", project_id).replace(
                    "%(tenant_id)s", project_id)
            endpoints.append({**endpoint, "url": url})
        if endpoints:
            scoped.append({**entry, "endpoints": endpoints})
    return scoped
