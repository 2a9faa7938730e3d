"""/v3/domains"""

from controller.api.identity import bp, crud, schemas, views
from controller.identity import domains

crud.register(bp, crud.Resource(
    singular="domain", plural="domains", view=views.domain,
    list=domains.list_, create=domains.create, get=domains.get, update=domains.update,
    delete=domains.delete, create_schema=schemas.DOMAIN_CREATE,
    update_schema=schemas.DOMAIN_UPDATE, filters={"name": "str", "enabled": "bool"}))
