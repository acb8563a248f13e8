"""The concrete store and Slack poster satisfy ``bot.ports`` (mypy checks this file too)."""

from __future__ import annotations

import inspect

import pytest

from bot.ports import SlackPort, StorePort
from bot.slack.client import SlackPoster
from bot.store.table import Store


def test_concrete_classes_satisfy_the_ports_under_mypy() -> None:
    # These assignments are the check: mypy (`make lint`) fails if a signature drifts.
    store: StorePort = Store(None, "eventops-test")
    slack: SlackPort = SlackPoster("xoxb-test", "http://127.0.0.1:9/api/")
    assert store is not None and slack is not None


def _protocol_methods(proto: type) -> list[str]:
    return sorted(name for name, value in vars(proto).items() if inspect.isfunction(value) and not name.startswith("_"))


@pytest.mark.parametrize(("proto", "concrete"), [(StorePort, Store), (SlackPort, SlackPoster)])
def test_every_port_method_exists_on_the_concrete_class(proto: type, concrete: type) -> None:
    methods = _protocol_methods(proto)
    assert methods, f"{proto.__name__} lists no methods"
    missing = [m for m in methods if not callable(getattr(concrete, m, None))]
    assert not missing, f"{concrete.__name__} lacks {missing} that {proto.__name__} declares"
    for name in methods:
        want = list(inspect.signature(getattr(proto, name)).parameters)
        got = list(inspect.signature(getattr(concrete, name)).parameters)
        assert want == got, f"{concrete.__name__}.{name}{got} != {proto.__name__}.{name}{want}"
