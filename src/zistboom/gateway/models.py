"""The gateway's tables: its members and subsystems, services, endpoints and access rights.
The message log's tables are in ``messagelog.py`` on the same metadata."""

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
