"""A "what to do" line and the source's own documentation, where the source gives them:
Security Hub's Remediation.Recommendation, GuardDuty's finding-type page, an alarm's runbook URL.
Driven through the notify handler into the Slack fake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pipeline.pipeline_env import BASE_CONFIG

EVENTS = Path(__file__).resolve().parents[1] / "events"


def _load(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text())


def _links(blocks: list[dict]) -> dict[str, str]:
    """label → url of every link in the message's mrkdwn (``<url|label>``)."""
    out: dict[str, str] = {}
    for block in blocks:
        for text in [block.get("text", {}).get("text", "")] + [e.get("text", "") for e in block.get("elements", [])]:
            for part in str(text).split("<")[1:]:
                url, _, rest = part.partition("|")
                label = rest.split(">")[0]
                if url.startswith("https://"):
                    out[label] = url
    return out


def test_security_hub_recommendation_is_a_what_to_do_line_and_a_how_to_fix_link(notify_env):
    notify_env.send([_load("securityhub-imported-multi-resource")])
    (msg,) = notify_env.top("#sec")
    text = json.dumps(msg.blocks)
    assert ":bulb: *What to do:* For information on how to correct this issue" in text
    assert _links(msg.blocks)["How to fix"] == "https://docs.aws.amazon.com/console/securityhub/EC2.18/remediation"


def test_a_recommendation_url_off_aws_docs_is_not_linked_and_a_resolved_finding_has_no_advice(notify_env):
    ev = _load("securityhub-imported-multi-resource")
    ev["detail"]["findings"][0]["Remediation"]["Recommendation"]["Url"] = "https://evil.example/fix"
    notify_env.send([ev])
    (msg,) = notify_env.top("#sec")
    assert "evil.example" not in json.dumps(msg.blocks)
    assert "How to fix" not in _links(msg.blocks)
    resolved = _load("securityhub-imported-resolved")
    notify_env.send([resolved])
    (msg,) = notify_env.top("#sec")
    assert "What to do" not in json.dumps(msg.blocks)


def test_guardduty_links_the_documentation_of_its_finding_type(notify_env):
    notify_env.send([_load("guardduty-ec2-ssh-bruteforce")])
    (msg,) = notify_env.top("#sec")
    assert _links(msg.blocks)["About this finding type"] == (
        "https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-ec2.html"
        "#unauthorizedaccess-ec2-sshbruteforce"
    )


def test_guardduty_iam_finding_links_the_iam_page():
    from bot.sources import console

    link = console.guardduty_type_doc("UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom")
    assert link is not None
    assert link.url.endswith("guardduty_finding-types-iam.html#unauthorizedaccess-iamuser-maliciousipcaller-custom")
    assert console.guardduty_type_doc("Made:Up/Type") is None
    assert console.guardduty_type_doc("<script>") is None


def _runbook_alarm() -> dict:
    ev = _load("cloudwatch-metric-alarm")
    ev["detail"]["configuration"]["description"] = (
        "CPU too high. Runbook: https://wiki.example.com/runbooks/cpu-high#steps."
    )
    return ev


@pytest.mark.config({**BASE_CONFIG, "link_hosts": ["wiki.example.com"]})
def test_an_alarm_description_with_a_url_on_a_listed_host_gives_a_runbook_link_naming_it(notify_env):
    notify_env.send([_runbook_alarm()])
    (msg,) = notify_env.top("#ops")
    assert _links(msg.blocks)["Runbook (wiki.example.com)"] == "https://wiki.example.com/runbooks/cpu-high#steps"


def test_a_runbook_url_on_a_host_not_in_link_hosts_is_shown_as_text_only(notify_env):
    notify_env.send([_runbook_alarm()])
    (msg,) = notify_env.top("#ops")
    assert "Runbook (wiki.example.com)" in json.dumps(msg.blocks)
    assert not any(label.startswith("Runbook") for label in _links(msg.blocks))


def test_link_hosts_must_be_host_names():
    from bot.config import parse_config
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="link_hosts"):
        parse_config({**BASE_CONFIG, "link_hosts": ["https://wiki.example.com/"]})


def test_an_alarm_description_without_a_url_has_no_runbook_link(notify_env):
    notify_env.send([_load("cloudwatch-metric-alarm")])
    (msg,) = notify_env.top("#ops")
    assert not any(label.startswith("Runbook") for label in _links(msg.blocks))
