"""The gateway's REST metaservices: ``listClients`` (answered by the consumer's gateway) and
``listMethods``, ``allowedMethods`` and ``getOpenAPI`` (answered by the provider's gateway for
one of its subsystems), each in the X-Road JSON shape or the GovStack Information Mediator shape.

Sources, followed as written:

- X-Road PR-MREST (Service Metadata Protocol for REST, v0.7): §2 (``listClients``, defined in
  PR-META), §4 "Retrieving List of Services" (``listMethods``, ``allowedMethods``; the response
  "SHALL NOT contain names of the metainfo services"), §5 "Retrieving the OpenAPI description of
  a Service" (``getOpenAPI?serviceCode=X``), Annex A (the OpenAPI of these services: ``200`` as
  ``application/json`` or ``text/yaml``) and Annex B.1–B.3 (example answers).
- X-Road PR-META (Service Metadata Protocol, v2.15): §2 (``GET /listClients``, optional
  ``xRoadInstance`` query parameter, JSON when ``Accept: application/json``), Annex B "OpenAPI
  definition" (``clientList``) and Annex C.1 "JSON Response".
- GovStack Information Mediator BB, ``api/GovStack_IM_Service_Metadata.yaml`` (OpenAPI 0.3;
  a verbatim copy is in ``tests/gateway/specs/``): ``restClientDetailsListType`` for
  ``listClients`` (query parameter ``instanceId``) and ``restServiceDetailsListType`` for
  ``listMethods``/``allowedMethods``.

The shapes:

- X-Road ``listMethods``/``allowedMethods`` (PR-MREST Annex B.1/B.2)::

    {"service": [{"object_type": "SERVICE", "xroad_instance": ..., "member_class": ...,
                  "member_code": ..., "subsystem_code": ..., "service_code": ...,
                  "service_type": "OPENAPI" | "REST",
                  "endpoint_list": [{"method": "GET", "path": "/persons/{id}"}]}]}

  PR-MREST's Annex A schema (``member``, camelCase keys, ``objectType`` as an object) disagrees
  with its own Annex B examples; the examples are what X-Road security servers send and what
  X-Road clients parse, so the examples are followed.
- GovStack ``listMethods``/``allowedMethods`` (``restServiceDetailsListType``)::

    {"member": [{"objectType": "SERVICE", "GovStackInstance": ..., "memberClass": ...,
                 "memberCode": ..., "applicationCode": ..., "serviceCode": ...,
                 "serviceType": "OPENAPI" | "REST",
                 "endpointList": {"member": [{"method": "GET", "path": "/persons/{id}"}]}}]}

- X-Road ``listClients`` (PR-META Annex C.1): ``{"member": [{"id": {"object_type": "MEMBER" |
  "SUBSYSTEM", "xroad_instance", "member_class", "member_code"[, "subsystem_code"]}, "name":
  ...}]}``; GovStack (``restClientDetailsListType``): ``{"member": [{"id": {"objectType":
  "MEMBER" | "APPLICATION", "GovStackInstance", "memberClass", "memberCode"[,
  "applicationCode"]}, "name": ...}]}``. Every member is listed, followed by its subsystems;
  ``name`` is the member's registered name (Persian by default, see :func:`list_clients`). The
  global configuration has no subsystem names, so PR-META's optional ``subsystem_name`` is left
  out. Only JSON is offered (PR-META's XML ``clientList`` is not).

Choices where the specifications are silent:

- ``service_type`` is ``OPENAPI`` when the service was registered with an OpenAPI document,
  else ``REST`` (as in Annex B.1). No ``service_version``: a version is part of the code here.
- Endpoints are listed as stored, in the access-rights path syntax (``{param}``, ``*``, ``**``);
  a service with no endpoints is called on any method and path, which is listed as the one
  endpoint ``{"method": "*", "path": "**"}`` (X-Road's base endpoint).
- ``allowedMethods`` lists, per service, the endpoints the caller's access rights cover (all of
  them for a whole-service right), and leaves out services where it may call nothing.
- ``getOpenAPI`` answers only a caller that may call some part of the service
  (``Server.ServerProxy.AccessDenied`` otherwise); a missing ``serviceCode`` is
  ``Client.BadRequest``, an unknown service or one without a document is
  ``Server.ServerProxy.UnknownService``. The document is returned unchanged, ``servers``
  included, as in PR-MREST Annex B.3 (no rewriting is specified for REST; PR-META §4's endpoint
  replacement is for WSDL). It is JSON unless the ``Accept`` header prefers ``text/yaml``,
  ``application/yaml`` or ``application/x-yaml`` over ``application/json`` (Annex A offers both).

Shape selection (:func:`requested_shape`): the X-Road shape by default. The query parameter
``shape`` (``xroad`` or ``govstack``), when present, decides; otherwise the GovStack shape is
used when an ``Accept`` media range carries the parameter ``profile=govstack`` (for example
``Accept: application/json; profile=govstack``). Any other ``shape`` value is a
``Client.BadRequest``. ``getOpenAPI`` returns the document itself in both shapes.

Errors are raised as :mod:`zistboom.core.exchange` errors; the proxy signs them like any answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import orjson
import yaml

from zistboom.core import exchange as xr
from zistboom.core import globalconf as gc
from zistboom.core.identifiers import MemberId, ServiceId, SubsystemId
from zistboom.gateway.access import Registry, ServiceEntry

__all__ = [
    "ANY_ENDPOINT",
    "NAMES",
    "SHAPES",
    "Shape",
    "answer",
    "answer_list_clients",
    "list_clients",
    "requested_shape",
]

Shape = Literal["xroad", "govstack"]
SHAPES: Final[tuple[Shape, ...]] = ("xroad", "govstack")

NAMES: Final = frozenset({"listMethods", "allowedMethods", "getOpenAPI"})
"""Service codes the provider's gateway answers itself when the subsystem has no such service."""

ANY_ENDPOINT: Final = ("*", "**")
"""The endpoint listed for a service without endpoints: any method, any path."""

JSON_CONTENT_TYPE: Final = "application/json; charset=utf-8"
YAML_MEDIA_TYPES: Final = ("text/yaml", "application/yaml", "application/x-yaml")
GOVSTACK_PROFILE: Final = "govstack"

# X-Road JSON identifier keys (core.identifiers) and their GovStack names.
_GOVSTACK_KEYS: Final[Mapping[str, str]] = {
    "object_type": "objectType",
    "xroad_instance": "GovStackInstance",
    "member_class": "memberClass",
    "member_code": "memberCode",
    "subsystem_code": "applicationCode",
    "service_code": "serviceCode",
}
_GOVSTACK_OBJECT_TYPES: Final[Mapping[str, str]] = {
    "MEMBER": "MEMBER",
    "SUBSYSTEM": "APPLICATION",
    "SERVICE": "SERVICE",
}

Endpoint = tuple[str, str]


# --- Content negotiation -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _MediaRange:
    media_type: str
    parameters: Mapping[str, str]
    quality: float


def _media_ranges(accept: str) -> list[_MediaRange]:
    """The media ranges of an ``Accept`` header that the client accepts at all (q > 0)."""
    ranges: list[_MediaRange] = []
    for part in accept.split(","):
        media_type, *raw_parameters = part.split(";")
        media_type = media_type.strip().lower()
        if not media_type:
            continue
        parameters: dict[str, str] = {}
        for raw in raw_parameters:
            name, _, value = raw.partition("=")
            parameters[name.strip().lower()] = value.strip().strip('"')
        try:
            quality = float(parameters.pop("q", "1"))
        except ValueError:
            continue  # an unreadable weight: the range is ignored rather than guessed at
        if quality > 0:
            ranges.append(_MediaRange(media_type, parameters, quality))
    return ranges


def requested_shape(query: Mapping[str, str], accept: str) -> Shape:
    """The answer shape: ``shape`` query parameter first, then ``Accept: ...; profile=govstack``,
    else X-Road."""
    asked = query.get("shape")
    if asked is not None:
        if asked == "xroad":
            return "xroad"
        if asked == "govstack":
            return "govstack"
        raise xr.BadRequest(
            f"unknown shape {asked!r} in the query: use shape=xroad (the default) or shape=govstack"
        )
    for media_range in _media_ranges(accept):
        if media_range.parameters.get("profile", "").lower() == GOVSTACK_PROFILE:
            return "govstack"
    return "xroad"


def _document_media_type(accept: str) -> str:
    """JSON, unless the client names a YAML type with a higher weight (ties: the first named)."""
    best: tuple[float, int, str] | None = None
    for index, media_range in enumerate(_media_ranges(accept)):
        if media_range.media_type not in ("application/json", *YAML_MEDIA_TYPES):
            continue
        candidate = (media_range.quality, -index, media_range.media_type)
        if best is None or candidate > best:
            best = candidate
    if best is None or best[2] == "application/json":
        return "application/json"
    return best[2]


# --- Identifiers in both shapes --------------------------------------------------------------


def _xroad_id(object_type: str, keys: Iterable[str], text: str) -> dict[str, str]:
    # Built from the textual id's segments, not re-validated: the ids come from the signed global
    # configuration or from the gateway's own tables, and a metaservice should not fail on them.
    return {"object_type": object_type, **dict(zip(keys, text.split("/"), strict=True))}


def _govstack_id(xroad_id: Mapping[str, str]) -> dict[str, str]:
    converted = {_GOVSTACK_KEYS[key]: value for key, value in xroad_id.items()}
    converted["objectType"] = _GOVSTACK_OBJECT_TYPES[xroad_id["object_type"]]
    return converted


# --- listClients -----------------------------------------------------------------------------


def list_clients(
    conf: gc.GlobalConf,
    *,
    shape: Shape,
    instance: str | None = None,
    language: Literal["fa", "en"] = "fa",
) -> bytes:
    """The ``listClients`` answer body: every member of the configuration, each followed by its
    subsystems. ``instance`` other than the configuration's own gives an empty list (there is no
    federation). ``name`` is the member's Persian name, or with ``language="en"`` its English
    name where one is registered."""
    clients: list[dict[str, Any]] = []
    if instance is None or instance == conf.instance:
        for member in conf.members:
            name = member.name_en if language == "en" and member.name_en else member.name_fa
            ids = [_xroad_id(MemberId.OBJECT_TYPE, MemberId.JSON_KEYS, member.id)]
            ids += [
                _xroad_id(SubsystemId.OBJECT_TYPE, SubsystemId.JSON_KEYS, f"{member.id}/{code}")
                for code in member.subsystems
            ]
            for xroad_id in ids:
                shown = xroad_id if shape == "xroad" else _govstack_id(xroad_id)
                clients.append({"id": shown, "name": name})
    return orjson.dumps({"member": clients})


def answer_list_clients(
    conf: gc.GlobalConf, *, query: Mapping[str, str], accept: str
) -> tuple[int, Mapping[str, str], bytes]:
    """``GET /listClients`` on the client port: shape from :func:`requested_shape`, instance from
    ``xRoadInstance`` (PR-META §2) or ``instanceId`` (GovStack), whichever is given."""
    shape = requested_shape(query, accept)
    named = {query.get("xRoadInstance") or None, query.get("instanceId") or None} - {None}
    if len(named) > 1:
        raise xr.BadRequest(
            "xRoadInstance and instanceId name different instances; give one of them"
        )
    instance = named.pop() if named else None
    body = list_clients(conf, shape=shape, instance=instance)
    return 200, {"Content-Type": JSON_CONTENT_TYPE}, body


# --- listMethods, allowedMethods -------------------------------------------------------------


def _listed(service: ServiceEntry) -> bool:
    # PR-MREST §4: the answer SHALL NOT contain names of the metainfo services.
    return service.code not in NAMES


def _all_endpoints(service: ServiceEntry) -> list[Endpoint]:
    if not service.endpoints:
        return [ANY_ENDPOINT]
    return [(endpoint.method, endpoint.path) for endpoint in service.endpoints]


def _allowed_endpoints(
    registry: Registry, service: ServiceEntry, client_id: str, conf: gc.GlobalConf
) -> list[Endpoint]:
    """What ``client_id`` may call of ``service``; empty if nothing."""
    if not any(registry.subject_matches(r, service, client_id, conf) for r in service.rights):
        return []
    if not service.endpoints:
        # Only a whole-service right can match a service without endpoints.
        return [ANY_ENDPOINT]
    allowed = registry.allowed_endpoints(service, client_id, conf)
    return [(endpoint.method, endpoint.path) for endpoint in allowed]


def _service_entry(service: ServiceEntry, endpoints: list[Endpoint], shape: Shape) -> Any:
    xroad_id = _xroad_id(ServiceId.OBJECT_TYPE, ServiceId.JSON_KEYS, service.service_id)
    service_type = "OPENAPI" if service.openapi is not None else "REST"
    listed = [{"method": method, "path": path} for method, path in endpoints]
    if shape == "xroad":
        return {**xroad_id, "service_type": service_type, "endpoint_list": listed}
    return {
        **_govstack_id(xroad_id),
        "serviceType": service_type,
        "endpointList": {"member": listed},
    }


def _service_list(entries: list[tuple[ServiceEntry, list[Endpoint]]], shape: Shape) -> bytes:
    services = [
        _service_entry(service, endpoints, shape)
        for service, endpoints in sorted(entries, key=lambda entry: entry[0].code)
    ]
    return orjson.dumps({"service" if shape == "xroad" else "member": services})


def _list_methods(registry: Registry, provider: str, shape: Shape) -> bytes:
    entries = [(s, _all_endpoints(s)) for s in registry.services_of(provider) if _listed(s)]
    return _service_list(entries, shape)


def _allowed_methods(
    registry: Registry, provider: str, client_id: str, conf: gc.GlobalConf, shape: Shape
) -> bytes:
    entries = [
        (service, endpoints)
        for service in registry.services_of(provider)
        if _listed(service)
        and (endpoints := _allowed_endpoints(registry, service, client_id, conf))
    ]
    return _service_list(entries, shape)


# --- getOpenAPI ------------------------------------------------------------------------------


def _open_api(
    registry: Registry,
    provider: str,
    client_id: str,
    conf: gc.GlobalConf,
    query: Mapping[str, str],
    accept: str,
) -> tuple[str, bytes]:
    code = query.get("serviceCode")
    if not code:
        raise xr.BadRequest(
            "getOpenAPI needs the query parameter serviceCode naming one of the provider's "
            "services, for example getOpenAPI?serviceCode=getPerson"
        )
    service = registry.service(provider, code) if code not in NAMES else None
    if service is None:
        raise xr.UnknownService(f"{provider}/{code} is not a service of this gateway")
    if not _allowed_endpoints(registry, service, client_id, conf):
        raise xr.AccessDenied(
            f"{client_id} may not call {service.service_id}, so it may not read its OpenAPI "
            "description"
        )
    if service.openapi is None:
        raise xr.UnknownService(
            f"{service.service_id} has no OpenAPI description: it was registered without one"
        )
    media_type = _document_media_type(accept)
    if media_type == "application/json":
        return JSON_CONTENT_TYPE, orjson.dumps(service.openapi)
    text = yaml.safe_dump(service.openapi, sort_keys=False, allow_unicode=True)
    return f"{media_type}; charset=utf-8", text.encode()


# --- The provider gateway's entry point -------------------------------------------------------


def answer(
    code: str,
    *,
    registry: Registry,
    provider: str,
    client_id: str,
    conf: gc.GlobalConf,
    query: Mapping[str, str],
    accept: str,
) -> tuple[int, Mapping[str, str], bytes]:
    """Answer the metaservice ``code`` of subsystem ``provider`` to ``client_id``: status,
    headers and body; refusals are raised as :class:`zistboom.core.exchange.ExchangeError`."""
    if code == "getOpenAPI":
        content_type, body = _open_api(registry, provider, client_id, conf, query, accept)
        return 200, {"Content-Type": content_type}, body
    if code == "listMethods":
        body = _list_methods(registry, provider, requested_shape(query, accept))
    elif code == "allowedMethods":
        shape = requested_shape(query, accept)
        body = _allowed_methods(registry, provider, client_id, conf, shape)
    else:
        raise xr.UnknownService(f"{code} is not a metaservice (expected one of {sorted(NAMES)})")
    return 200, {"Content-Type": JSON_CONTENT_TYPE}, body
