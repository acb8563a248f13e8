"""KMS key-material notices sent by KMS itself: a rotation, and imported key material that expired."""

from __future__ import annotations

from pydantic import Field

from bot.models import Alert, Resource, Severity
from bot.sources import console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers
from bot.sources.kms import key_resource


class KeyMaterialEvent(Detail):
    key_id: str = Field("", alias="key-id")
    key_origin: str | None = Field(None, alias="key-origin")
    rotation_type: str | None = Field(None, alias="rotation-type")
    key_material_id: str | None = Field(None, alias="key-material-id")
    current_key_material_id: str | None = Field(None, alias="current-key-material-id")


def _key(event: EventEnvelope, d: KeyMaterialEvent) -> Resource:
    arn = next((r for r in event.resources if ":kms:" in r and ":key/" in r), None)
    raw = arn or d.key_id
    if not raw:
        raise ValueError(f"{event.detail_type} without a key id")
    return key_resource(raw, event.account, event.region)


def _short(material_id: str | None) -> str | None:
    return f"{material_id[:12]}…" if material_id and len(material_id) > 16 else material_id


@parsers.register(("aws.kms", "KMS CMK Rotation"))
class KmsRotationParser(Parser):
    """KMS rotated a key's material. Example: on-demand rotation of 1234abcd-… → INFO notice."""

    kind = "kms"
    doc = SourceDoc(
        label="KMS key rotation",
        severity="INFO (a notice)",
        resolved="always (nothing to do)",
        fingerprint="account, region, key id, detail-type",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = KeyMaterialEvent.model_validate(event.detail)
        key = _key(event, d)
        how = {"AUTOMATIC": "automatic", "ON_DEMAND": "on-demand"}.get((d.rotation_type or "").upper())
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(
                self.kind, event.account, key.region or event.region, key.id, event.detail_type
            ),
            title=f"KMS key {key.id}: key material rotated" + (f" ({how})" if how else ""),
            summary="KMS rotated the key material; data encrypted earlier still decrypts with the previous material.",
            severity=Severity.INFO,
            region=key.region or event.region,
            resources=[key],
            fields={
                "Rotation": how,
                "Key origin": d.key_origin,
                "New key material": _short(d.current_key_material_id),
            },
            links=console.keep(console.kms_key(key.region or event.region, key.id)),
            context={"kms": {"key_id": key.id}},
            problems=["kms:key-material-rotated"],
            active=False,
        )


@parsers.register(("aws.kms", "KMS Imported Key Material Expiration"))
class KmsImportedKeyMaterialExpirationParser(Parser):
    """Imported key material of a KMS key expired and KMS deleted it. Example: 1234abcd-… unusable until reimported → HIGH."""

    kind = "kms"
    doc = SourceDoc(
        label="KMS imported key material expired",
        severity="HIGH (the key can't be used until the material is reimported)",
        resolved="—",
        fingerprint="account, region, key id, detail-type",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = KeyMaterialEvent.model_validate(event.detail)
        key = _key(event, d)
        region = key.region or event.region
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, event.account, region, key.id, event.detail_type),
            title=f"KMS key {key.id}: imported key material expired",
            summary=(
                "KMS deleted the expired key material; the key can't encrypt or decrypt until the same "
                "material is imported again."
            ),
            severity=Severity.HIGH,
            region=region,
            resources=[key],
            fields={"Key material": _short(d.key_material_id)},
            links=console.keep(console.kms_key(region, key.id)),
            context={"kms": {"key_id": key.id}},
            problems=["kms:imported-key-material-expired"],
        )
