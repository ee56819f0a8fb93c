"""The `shoplake` command line: one entry point for setting up, serving and administering.

Settings come from ``SHOPLAKE_*`` environment variables (see the README's settings table);
logs are JSON lines on stderr, command output is plain text on stdout.
"""

from __future__ import annotations

import importlib

import click

from warehouse import logs
from warehouse.config import SettingsError, load_settings

EPILOG = """\b
First steps:
  shoplake demo                      set up a demo tenant, admin and API key, then serve
  shoplake init                      create var/ and the control database
  shoplake tenants create acme --name "Acme" --timezone Europe/Berlin --currency EUR
  shoplake users create ada@acme.example --name "Ada"
  shoplake users add-member ada@acme.example acme --role admin
  shoplake keys create acme --name "shop sync" --scope ingest --scope read
  shoplake serve
  shoplake generate --preset small    synthetic shop data as NDJSON under var/generated/
  shoplake push var/generated/small/tenant-slug --api-key sl_...

Run `shoplake COMMAND --help` for the options of each command.
"""


# Command name -> "module:attribute". A command's module (and what it imports: Dagster, dbt,
# the generator) is loaded only when that command runs, so `shoplake serve` starts, and forks
# its workers from, a process holding just the API's libraries.
COMMANDS = {
    "init": "shoplake.commands.serve:init",
    "serve": "shoplake.commands.serve:serve",
    "demo": "shoplake.commands.demo:demo",
    "tenants": "shoplake.commands.tenants:tenants_group",
    "users": "shoplake.commands.users:users_group",
    "keys": "shoplake.commands.keys:keys_group",
    "generate": "shoplake.commands.data:generate_command",
    "push": "shoplake.commands.data:push_command",
    "compact": "shoplake.commands.data:compact_command",
    "jobs": "shoplake.commands.jobs:jobs_group",
    "export": "shoplake.commands.export:export_group",
    "build": "shoplake.commands.build:build",
    "dagster": "shoplake.commands.build:dagster_ui",
}


class LazyGroup(click.Group):
    """A command group that imports each command's module on first use."""

    def __init__(self, *args, lazy: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, attribute = self.lazy[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    epilog=EPILOG,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="shoplake")
@click.pass_context
def main(ctx: click.Context) -> None:
    """shoplake: multi-tenant ecommerce analytics warehouse.

    Settings are read from SHOPLAKE_* environment variables, e.g. SHOPLAKE_VAR_DIR (where
    local state lives, default ./var) and SHOPLAKE_DATABASE_URL (control DB; default SQLite
    under var/).
    """
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    logs.configure(settings.log_level)
    ctx.obj = settings


if __name__ == "__main__":
    main()
