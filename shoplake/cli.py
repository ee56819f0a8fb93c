"""The `shoplake` command line: one entry point for setting up, serving and administering.

Settings come from ``SHOPLAKE_*`` environment variables (see the README's settings table);
logs are JSON lines on stderr, command output is plain text on stdout.
"""

from __future__ import annotations

import click

from shoplake.commands.build import build, dagster_ui
from shoplake.commands.data import compact_command, generate_command, push_command
from shoplake.commands.demo import demo
from shoplake.commands.jobs import jobs_group
from shoplake.commands.keys import keys_group
from shoplake.commands.serve import init, serve
from shoplake.commands.tenants import tenants_group
from shoplake.commands.users import users_group
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


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
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


for command in (
    init,
    serve,
    demo,
    tenants_group,
    users_group,
    keys_group,
    generate_command,
    push_command,
    compact_command,
    jobs_group,
    build,
    dagster_ui,
):
    main.add_command(command)


if __name__ == "__main__":
    main()
