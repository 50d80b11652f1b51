"""``python -m planner``: the ``planner`` command (:func:`planner.cli.main`)."""

from planner.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
