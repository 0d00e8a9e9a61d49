"""The ``zistboom`` command: every component's commands, and the demo.

Each component's commands are imported only when they are asked for (``zistboom gateway …``
imports the gateway's, not central's, the documents' or the demo's): an operator's command, and
each of the many a test suite or a set-up script runs, starts in about half the time. ``zistboom
--help`` and anything that is not a component's name import them all."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

from zistboom import __version__

# Name → the module whose ``app`` holds the group's commands, in the order help lists them.
GROUPS = {
    "central": "zistboom.central.cli",
    "gateway": "zistboom.gateway.cli",
    "registry": "zistboom.registries.cli",
    "evidence": "zistboom.evidence_cli",
    "accreditation": "zistboom.accreditation.cli",
    "documents": "zistboom.documents.cli",
    "demo": "zistboom.demo.command",
}


class _Zistboom(typer.Typer):
    """The command (the ``zistboom`` script calls it): it adds the groups ``sys.argv`` asks
    for, then runs."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        add_groups(sys.argv[1:])
        return super().__call__(*args, **kwargs)


app = _Zistboom(
    help="Zistboom (زیست‌بوم): the government digital ecosystems platform.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


@app.command()
def version() -> None:
    """Print Zistboom's version."""
    typer.echo(__version__)


def add_groups(argv: list[str]) -> typer.Typer:
    """``app`` with the group that ``argv`` names, or with every group when it names none."""
    wanted = next((arg for arg in argv if not arg.startswith("-")), None)
    registered = {group.name for group in app.registered_groups}
    for name, module in GROUPS.items():
        if name not in registered and (wanted not in GROUPS or wanted == name):
            app.add_typer(importlib.import_module(module).app, name=name)
    return app
