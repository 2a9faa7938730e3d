"""/v2.0/agents: the network agents and whether they are alive (admin only)."""

from __future__ import annotations

from controller.api import handler
from controller.api.network import bp, common, schemas, views
from controller.network import agents


def _view(rt, row) -> dict:
    return views.agent(row, agents.is_alive(rt, row))


@bp.get("/v2.0/agents")
def list_agents():
    common.authorize("get_agent", {"project_id": ""})
    rt = handler.runtime()
    return common.listing("agents", [_view(rt, row) for row in agents.list_(rt, None)])


@bp.get("/v2.0/agents/<agent_id>")
def show_agent(agent_id: str):
    ctx = common.authorize("get_agent", {"project_id": ""})
    rt = handler.runtime()
    return common.show("agent", _view(rt, agents.get(rt, ctx, agent_id)))


@bp.put("/v2.0/agents/<agent_id>")
def update_agent(agent_id: str):
    values = common.body(schemas.AGENT_UPDATE, "agent")
    ctx = common.authorize("update_agent", {"project_id": ""})
    rt = handler.runtime()
    return common.show("agent", _view(rt, agents.update(rt, ctx, agent_id, values)))


@bp.delete("/v2.0/agents/<agent_id>")
def delete_agent(agent_id: str):
    ctx = common.authorize("delete_agent", {"project_id": ""})
    agents.delete(handler.runtime(), ctx, agent_id)
    return common.no_content()
