"""Every table of the window, registered on :class:`~zistboom.window.database.Base` by importing
the module of each concern (the migrations and the tests import this one)."""

from __future__ import annotations

from zistboom.window import identity_models  # noqa: F401
from zistboom.window.applications import models as application_models  # noqa: F401
from zistboom.window.catalogue import models as catalogue_models  # noqa: F401
from zistboom.window.database import Base

__all__ = ["Base"]
