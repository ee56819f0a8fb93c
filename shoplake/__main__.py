"""Allow `python -m shoplake`."""

from shoplake.cli import main

main()
