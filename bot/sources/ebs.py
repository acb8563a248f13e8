"""EBS volume and snapshot notifications: create/attach/copy failures and their completions."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from bot.models import Alert, Link, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers
from bot.sources.kms import key_resource

SNAPSHOT_ID_RE = re.compile(r"^snap-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
_KMS_KEY_ARN_RE = re.compile(
    r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/mrk-[0-9a-f]{32}"
)


class EbsNotification(Detail):
    event: str = ""
    result: str = ""
    cause: str | None = None
    request_id: str | None = Field(None, alias="request-id")
    snapshot_id: str | None = None
    source: Any = None  # a volume/snapshot ARN, or an account number for shareSnapshot


class SnapshotStatus(Detail):
    snapshot_id: str = ""
    source: str | None = None
    status: str | None = None


class MultiVolumeSnapshots(EbsNotification):
    snapshots: list[SnapshotStatus] = []


# Results that mean the action is done and fine.
_DONE = {"available", "succeeded", "completed", "deleted", "optimizing"}

_CAUSES = (
    ("pending deletion", "kms-key-pending-deletion"),
    ("is disabled", "kms-key-disabled"),
    ("pending import", "kms-key-pending-import"),
    ("insufficient capacity", "insufficient-capacity"),
)


def _last_id(value: object, pattern: re.Pattern[str]) -> str | None:
    """``vol-…``/``snap-…`` from an ARN (AWS's own samples sometimes misplace the region) or a bare id."""
    if not isinstance(value, str):
        return None
    tail = value.rsplit("/", 1)[-1]
    return tail if pattern.match(tail) else None


def _severity(result: str) -> tuple[Severity, bool]:
    r = result.lower()
    if r == "failed":
        return Severity.MEDIUM, True
    return Severity.INFO, False


def _cause_problem(cause: str | None) -> str | None:
    low = (cause or "").lower()
    return next((key for text, key in _CAUSES if text in low), None)


def _volume_link(region: str, volume_id: str) -> Link | None:
    if not (arns.is_region(region) and arns.matches(arns.VOLUME_ID_RE, volume_id)):
        return None
    return Link(
        label=f"Volume {volume_id}",
        url=f"{console._host(region)}/ec2/home?region={region}#VolumeDetails:volumeId={volume_id}",
    )


def _snapshot_link(region: str, snapshot_id: str) -> Link | None:
    if not (arns.is_region(region) and arns.matches(SNAPSHOT_ID_RE, snapshot_id)):
        return None
    return Link(
        label=f"Snapshot {snapshot_id}",
        url=f"{console._host(region)}/ec2/home?region={region}#SnapshotDetails:snapshotId={snapshot_id}",
    )


def _kms_key(event: EventEnvelope, cause: str | None) -> Resource | None:
    arn = next((r for r in event.resources if ":kms:" in r), None)
    if arn is None and cause:
        m = _KMS_KEY_ARN_RE.search(cause)
        arn = m.group(0) if m else None
    return key_resource(arn, event.account, event.region) if arn else None


def _volume(vid: str, event: EventEnvelope, arn: str | None = None) -> Resource:
    return Resource(
        type="AwsEc2Volume",
        id=vid,
        arn=arn or arns.build_arn("ec2", event.region, event.account, f"volume/{vid}"),
        region=event.region,
        account=event.account,
    )


def _snapshot(sid: str, event: EventEnvelope) -> Resource:
    # Snapshot ARNs have no account part (arn:aws:ec2:<region>::snapshot/snap-…).
    arn = arns.build_arn("ec2", event.region, "", f"snapshot/{sid}")
    return Resource(type="AwsEc2Snapshot", id=sid, arn=arn, region=event.region, account=event.account)


def _problems(event_name: str, result: str, cause: str | None) -> list[str]:
    problems = [f"ebs:{event_name or 'unknown'}-{(result or 'unknown').lower()}"]
    extra = _cause_problem(cause) if result.lower() == "failed" else None
    if extra:
        problems.append(f"ebs:{extra}")
    return problems


_VERB = {
    "createVolume": "creation",
    "deleteVolume": "deletion",
    "attachVolume": "attach",
    "reattachVolume": "reattach",
    "modifyVolume": "modification",
    "createSnapshot": "creation",
    "createSnapshots": "multi-volume snapshot",
    "copySnapshot": "copy",
    "shareSnapshot": "share",
}


def _title(what: str, rid: str, event_name: str, result: str) -> str:
    verb = _VERB.get(event_name, event_name or "action")
    if result.lower() == "failed":
        return f"EBS {what} {rid}: {verb} failed"
    if event_name == "shareSnapshot":
        return f"EBS snapshot {rid} shared with this account"
    done = {"available": "succeeded", "succeeded": "succeeded", "completed": "succeeded"}
    return f"EBS {what} {rid}: {verb} {done.get(result.lower(), result or 'done')}"


@parsers.register(("aws.ec2", "EBS Volume Notification"))
class EbsVolumeParser(Parser):
    """An EBS volume action completed. Example: createVolume of vol-01234567 failed (KMS key disabled) → MEDIUM."""

    kind = "ebs"
    doc = SourceDoc(
        label="EBS volume",
        severity="result failed MEDIUM; available/deleted/optimizing/completed INFO",
        resolved="any result but failed",
        fingerprint="account, region, volume id, event (a failed and a later available createVolume share one)",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = EbsNotification.model_validate(event.detail)
        vol_arn = next((r for r in event.resources if ":volume/" in r), None)
        vid = _last_id(vol_arn, arns.VOLUME_ID_RE)
        if vid is None:
            raise ValueError("EBS volume notification without a volume id in resources")
        severity, active = _severity(d.result)
        key = _kms_key(event, d.cause)
        resources = [_volume(vid, event, vol_arn if arns.parse_arn(vol_arn) else None)]
        if key:
            resources.append(key)
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, event.account, event.region, vid, d.event),
            title=_title("volume", vid, d.event, d.result),
            summary=d.cause or "",
            severity=severity,
            resources=resources,
            fields={"Event": d.event, "Result": d.result, "Cause": d.cause, "KMS key": key.id if key else None},
            links=console.keep(_volume_link(event.region, vid), console.kms_key(event.region, key.id) if key else None),
            context={"kms": {"key_id": key.id}} if key else {},
            problems=_problems(d.event, d.result, d.cause),
            active=active,
        )


@parsers.register(("aws.ec2", "EBS Snapshot Notification"))
class EbsSnapshotParser(Parser):
    """An EBS snapshot action completed. Example: createSnapshot snap-01234567 of vol-01234567 succeeded → INFO."""

    kind = "ebs"
    doc = SourceDoc(
        label="EBS snapshot",
        severity="result failed MEDIUM; succeeded INFO",
        resolved="succeeded",
        fingerprint="account, region, snapshot id, event",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = EbsNotification.model_validate(event.detail)
        sid = _last_id(d.snapshot_id, SNAPSHOT_ID_RE) or next(
            (s for s in (_last_id(r, SNAPSHOT_ID_RE) for r in event.resources) if s), None
        )
        if sid is None:
            raise ValueError("EBS snapshot notification without a snapshot id")
        severity, active = _severity(d.result)
        resources = [_snapshot(sid, event)]
        source_volume = _last_id(d.source, arns.VOLUME_ID_RE)
        source_snapshot = _last_id(d.source, SNAPSHOT_ID_RE)
        if source_volume:
            resources.append(_volume(source_volume, event))
        source_text = source_volume or source_snapshot or (str(d.source) if d.source not in (None, "") else None)
        source_label = "Shared by account" if d.event == "shareSnapshot" else "Source"
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, event.account, event.region, sid, d.event),
            title=_title("snapshot", sid, d.event, d.result),
            summary=d.cause or "",
            severity=severity,
            resources=resources,
            fields={"Event": d.event, "Result": d.result, "Cause": d.cause, source_label: source_text},
            links=console.keep(
                _snapshot_link(event.region, sid), _volume_link(event.region, source_volume) if source_volume else None
            ),
            problems=_problems(d.event, d.result, d.cause),
            active=active,
        )


@parsers.register(("aws.ec2", "EBS Multi-Volume Snapshots Completion Status"))
class EbsMultiVolumeSnapshotsParser(Parser):
    """A multi-volume (crash-consistent) snapshot set completed. Example: createSnapshots failed, snap-01234567 in status error → MEDIUM."""

    kind = "ebs"
    doc = SourceDoc(
        label="EBS multi-volume snapshots",
        severity="result failed MEDIUM; succeeded INFO",
        resolved="succeeded",
        fingerprint="account, region, the set's snapshot ids",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = MultiVolumeSnapshots.model_validate(event.detail)
        ids = [s for s in (_last_id(x.snapshot_id, SNAPSHOT_ID_RE) for x in d.snapshots) if s]
        ids += [s for s in (_last_id(r, SNAPSHOT_ID_RE) for r in event.resources) if s and s not in ids]
        if not ids:
            raise ValueError("EBS multi-volume snapshot event without snapshot ids")
        severity, active = _severity(d.result)
        resources = [_snapshot(s, event) for s in ids]
        volumes = [v for v in (_last_id(x.source, arns.VOLUME_ID_RE) for x in d.snapshots) if v]
        resources += [_volume(v, event) for v in dict.fromkeys(volumes)]
        statuses = ", ".join(
            f"{_last_id(x.snapshot_id, SNAPSHOT_ID_RE) or x.snapshot_id}"
            + (f" of {_last_id(x.source, arns.VOLUME_ID_RE)}" if _last_id(x.source, arns.VOLUME_ID_RE) else "")
            + (f" ({x.status})" if x.status else "")
            for x in d.snapshots
        )
        failed = d.result.lower() == "failed"
        title = f"EBS multi-volume snapshot of {len(ids)} volume{'s' if len(ids) != 1 else ''} " + (
            "failed" if failed else (d.result or "completed")
        )
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, event.account, event.region, "createSnapshots", *sorted(ids)),
            title=title,
            summary=d.cause or "",
            severity=severity,
            resources=resources,
            fields={"Result": d.result, "Cause": d.cause, "Snapshots": statuses},
            links=console.keep(*(_snapshot_link(event.region, s) for s in ids[:5])),
            problems=_problems(d.event or "createSnapshots", d.result, d.cause),
            active=active,
        )
