"""The embedded local mode behind ``make run``: loopback fakes standing in for Slack (and AWS)."""
