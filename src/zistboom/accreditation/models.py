"""The accreditation system's tables (in central's database, their own migration history).

Members, subsystems and services are named by their identifiers (``IR-DEMO/COM/…``), not by
foreign keys into central's tables: the contexts share a database, not their tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON
from sqlalchemy.orm import DeclarativeBase

from zistboom.core.database import UTCDateTime, component_metadata


class Base(DeclarativeBase):
    metadata = component_metadata()
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }
