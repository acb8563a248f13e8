"""Maintenance windows: alerts in a scope are held silently, then summarized when the window ends.

``scope.py`` reads and matches scopes (``account:prod``, ``region:eu-west-1``,
``tag:env=staging``, ``rule:prod-sg``), ``schedule.py`` the ``maintenance:`` entries of
eventops.yml (one-off and weekly windows), ``hold.py`` the check the notify side makes after
routing and before posting, and ``release.py`` what ending a window does (the summary message,
the still-active alerts in its thread). This package file imports nothing: ``bot.config`` and
``bot.pipeline`` import the parts they need, and ``release`` imports the pipeline.
"""
