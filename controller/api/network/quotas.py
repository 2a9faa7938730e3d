"""/v2.0/quotas: per-project network limits, their usage and the defaults."""

from __future__ import annotations

from controller.api import handler
from controller.api.network import bp, common, schemas
from controller.network import quotas


@bp.get("/v2.0/quotas")
def list_quotas():
    common.authorize("get_quota", {"project_id": ""})
    rows = quotas.list_overridden(handler.runtime())
    return {"quotas": [{**row, "tenant_id": row["project_id"]} for row in rows]}


@bp.get("/v2.0/quotas/tenant")
@bp.get("/v2.0/quotas/project")
def show_own_project():
    ctx = common.context()
    return {"tenant": {"tenant_id": ctx.project_id}, "project": {"id": ctx.project_id}}


@bp.get("/v2.0/quotas/<project_id>")
def show_quota(project_id: str):
    common.authorize("get_quota", {"project_id": project_id})
    return {"quota": quotas.show(handler.runtime(), project_id)}


@bp.get("/v2.0/quotas/<project_id>/details")
def show_quota_details(project_id: str):
    common.authorize("get_quota", {"project_id": project_id})
    return {"quota": quotas.details(handler.runtime(), project_id)}


@bp.get("/v2.0/quotas/<project_id>/default")
def show_quota_defaults(project_id: str):
    common.authorize("get_quota", {"project_id": project_id})
    return {"quota": quotas.defaults(handler.runtime())}


@bp.put("/v2.0/quotas/<project_id>")
def update_quota(project_id: str):
    values = common.body(schemas.QUOTA_UPDATE, "quota")
    ctx = common.authorize("update_quota", {"project_id": project_id})
    values = {k: v for k, v in values.items() if k not in ("force", "check_limit")}
    return {"quota": quotas.update(handler.runtime(), ctx, project_id, values)}


@bp.delete("/v2.0/quotas/<project_id>")
def delete_quota(project_id: str):
    ctx = common.authorize("delete_quota", {"project_id": project_id})
    quotas.reset(handler.runtime(), ctx, project_id)
    return common.no_content()
