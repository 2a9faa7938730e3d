"""Projects: the tenants every other service's resources belong to."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.db.base import new_id
from controller.db.models.identity import Assignment, Domain, Project
from controller.identity import revocations, store
from controller.runtime import Runtime

FIELDS = ("name", "description", "enabled", "tags")


def _conflict(name: Any) -> str:
    return ("Conflict occurred attempting to store project - it is not permitted to have "
            f"two projects with the same name in the same domain : {name}.")


def create(rt: Runtime, ctx: RequestContext, values: dict[str, Any]) -> Project:
    domain_id = values.get("domain_id") or rt.conf.identity.default_domain_id
    with rt.db.session() as session:
        store.get(session, Domain, domain_id, "domain")
        parent_id = values.get("parent_id")
        if parent_id:
            parent = store.get(session, Project, parent_id, "project")
            if parent.domain_id != domain_id:
                raise exceptions.BadRequest(
                    "The parent project must be in the same domain as the new project.")
        project = Project(id=new_id(), domain_id=domain_id, parent_id=parent_id or None,
                          extra={}, tags=values.get("tags", []),
                          **{f: values[f] for f in FIELDS if f in values and f != "tags"})
        store.insert(session, project, _conflict(values["name"]))
    rt.notify(ctx, "identity.project.created", {"resource_info": project.id})
    return project


def get(rt: Runtime, project_id: str) -> Project:
    with rt.db.session() as session:
        return store.get(session, Project, project_id, "project")


def find(rt: Runtime, *, project_id: str | None = None, name: str | None = None,
         domain_id: str | None = None) -> Project:
    """A project by ID, or by name within a domain."""
    with rt.db.session() as session:
        if project_id is not None:
            return store.get(session, Project, project_id, "project")
        found = session.scalars(sa.select(Project).where(
            Project.name == name, Project.domain_id == domain_id)).first()
        if found is None:
            raise exceptions.not_found("project", str(name))
        return found


def list_(rt: Runtime, filters: dict[str, Any], ids: list[str] | None = None) -> list[Project]:
    """Projects matching filters; restricted to ids when given."""
    with rt.db.session() as session:
        query = sa.select(Project).order_by(Project.name)
        for name, value in filters.items():
            if value is not None:
                query = query.where(getattr(Project, name) == value)
        if ids is not None:
            query = query.where(Project.id.in_(ids))
        return list(session.scalars(query))


def update(rt: Runtime, ctx: RequestContext, project_id: str,
           values: dict[str, Any]) -> Project:
    with rt.db.session() as session:
        project = store.get(session, Project, project_id, "project")
        disabling = project.enabled and values.get("enabled") is False
        store.apply(project, values, FIELDS)
        store.save(session, project, _conflict(values.get("name")))
        if disabling:
            revocations.revoke(session, rt.conf.token.expiration, project_id=project_id)
    rt.notify(ctx, "identity.project.updated", {"resource_info": project_id})
    return project


def delete(rt: Runtime, ctx: RequestContext, project_id: str) -> None:
    with rt.db.session() as session:
        project = store.get(session, Project, project_id, "project")
        if store.exists(session, sa.select(Project.id).where(Project.parent_id == project_id)):
            raise exceptions.Forbidden(
                "Cannot delete a project that has child projects; delete them first.")
        session.execute(sa.delete(Assignment).where(
            Assignment.target_type == "project", Assignment.target_id == project_id))
        revocations.revoke(session, rt.conf.token.expiration, project_id=project_id)
        store.delete(session, project)
    rt.notify(ctx, "identity.project.deleted", {"resource_info": project_id})
