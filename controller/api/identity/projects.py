"""/v3/projects"""

from controller.api.identity import bp, crud, schemas, views
from controller.identity import projects

crud.register(bp, crud.Resource(
    singular="project", plural="projects", view=views.project,
    list=projects.list_, create=projects.create, get=projects.get, update=projects.update,
    delete=projects.delete, create_schema=schemas.PROJECT_CREATE,
    update_schema=schemas.PROJECT_UPDATE,
    filters={"name": "str", "domain_id": "str", "enabled": "bool", "parent_id": "str"}))
