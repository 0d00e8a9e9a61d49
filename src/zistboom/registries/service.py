"""The registry's rules: defining registries and their versions, and every Data API operation
with its schema checks, the personal-data rules and usage log, and the change log. No HTTP
here: routes in ``api.py`` parse and identify the caller, then call these functions with their
session (one transaction per call, so a read and its usage entries commit together)."""

from __future__ import annotations

from zistboom.registries import repository
from zistboom.registries.definitions import (
    Definition,
    Description,
    build_indexes,
    define_registry,
    delete_registry,
    describe,
    get_registry,
    has_registry,
    propose_version,
    publish,
    registries,
    registry_by_id,
    version_row,
)
from zistboom.registries.reads import (
    Page,
    exists,
    list_records,
    read_record,
    read_value,
    subject_of,
    usage_list,
)
from zistboom.registries.target import Caller, Schemas, Target, resolve
from zistboom.registries.writes import (
    MAX_UPDATE_ENTRIES,
    create,
    delete,
    update,
    update_entries,
    update_or_create,
)

__all__ = [
    "MAX_UPDATE_ENTRIES",
    "Caller",
    "Definition",
    "Description",
    "Page",
    "Schemas",
    "Target",
    "build_indexes",
    "create",
    "define_registry",
    "delete",
    "delete_registry",
    "describe",
    "exists",
    "get_registry",
    "has_registry",
    "list_records",
    "propose_version",
    "publish",
    "read_record",
    "read_value",
    "registries",
    "registry_by_id",
    "repository",
    "resolve",
    "subject_of",
    "update",
    "update_entries",
    "update_or_create",
    "usage_list",
    "version_row",
]
