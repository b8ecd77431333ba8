"""The ``bridge`` command.

Sub-commands live in their own modules and are imported only when invoked
(click's lazy-group pattern), so ``bridge --help`` stays fast and a command
that needs Twisted does not slow down one that only converts a file.

Exit codes, shared by every sub-command:

====  ==========================================================
0     success
1     the input was read but is invalid (validation, lint errors)
2     unreadable input, bad usage or a refused (hostile) document
3     configuration error (unknown key, missing certificate...)
4     a runtime failure (broker unreachable, scenario failed)
====  ==========================================================
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute"; each attribute is a click.Command or click.Group.
# Keep one entry per line, sorted: several people add commands here.
COMMANDS: dict[str, str] = {
    "adapters": "bridge.cli.adapters_cmd:adapters",
    "certs": "bridge.cli.certs_cmd:certs",
    "config": "bridge.cli.config_cmd:config",
    "demo": "bridge.cli.demo_cmd:demo",
    "dlq": "bridge.cli.store_cmds:dlq",
    "hub-emulator": "bridge.cli.hub_emulator_cmd:hub_emulator",
    "mappings": "bridge.cli.mappings_cmd:mappings",
    "messages": "bridge.cli.messages_export_cmd:messages",
    "nexsis-sim": "bridge.cli.nexsis_sim_cmd:nexsis_sim",
    "nomenclatures": "bridge.cli.nomenclatures_cmd:nomenclatures",
    "replay": "bridge.cli.store_cmds:replay",
    "run": "bridge.cli.run_cmd:run",
    "schemas": "bridge.cli.schemas_cmd:schemas",
    "send": "bridge.cli.send_cmd:send",
    "store": "bridge.cli.store_cmds:store_group",
    "translate": "bridge.cli.translate_cmd:translate",
    "validate": "bridge.cli.validate_cmd:validate",
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use."""

    def __init__(self, *args, lazy: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._lazy))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self._lazy:
            module_name, attribute = self._lazy[name].split(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hub-bridge")
def cli() -> None:
    """hub-bridge: legacy 15-18 links, NexSIS EMSI and the Hub Santé, translated and delivered."""


def main() -> None:
    cli(prog_name="bridge")


if __name__ == "__main__":  # pragma: no cover
    main()
