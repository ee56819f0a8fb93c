"""The subcommands of the `shoplake` CLI, one module per area."""
