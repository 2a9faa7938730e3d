"""/v3/regions, /v3/services, /v3/endpoints"""

from controller.api.identity import bp, crud, schemas, views
from controller.identity import catalog

crud.register(bp, crud.Resource(
    singular="region", plural="regions", view=views.region,
    list=catalog.list_regions, create=catalog.create_region, get=catalog.get_region,
    update=catalog.update_region, delete=catalog.delete_region,
    create_schema=schemas.REGION_CREATE, update_schema=schemas.REGION_UPDATE,
    filters={"parent_region_id": "str"}, id_converter="path"))

crud.register(bp, crud.Resource(
    singular="service", plural="services", view=views.service,
    list=catalog.list_services, create=catalog.create_service, get=catalog.get_service,
    update=catalog.update_service, delete=catalog.delete_service,
    create_schema=schemas.SERVICE_CREATE, update_schema=schemas.SERVICE_UPDATE,
    filters={"type": "str", "name": "str"}))


def _endpoint_values(create):
    """Accept `region` as the older spelling of `region_id`."""

    def wrapped(rt, ctx, *args):
        values = args[-1]
        if "region" in values:
            values.setdefault("region_id", values.pop("region"))
        return create(rt, ctx, *args)

    return wrapped


crud.register(bp, crud.Resource(
    singular="endpoint", plural="endpoints", view=views.endpoint,
    list=catalog.list_endpoints, create=_endpoint_values(catalog.create_endpoint),
    get=catalog.get_endpoint, update=_endpoint_values(catalog.update_endpoint),
    delete=catalog.delete_endpoint,
    create_schema=schemas.ENDPOINT_CREATE, update_schema=schemas.ENDPOINT_UPDATE,
    filters={"service_id": "str", "interface": "str", "region_id": "str"}))
