"""The remediation catalog: importing this package registers every remediation.

Example::

    from bot.remediations import remediations, run
    outcome = run(remediations["ec2.stop-instance"], ctx, {"instance_id": "i-0abc1234"})
"""

from __future__ import annotations

from bot.remediations import (  # noqa: F401  (imported to register)
    autoscaling,
    awslambda,
    cloudtrail,
    ec2,
    ecs,
    guardduty,
    iam,
    kms,
    s3,
    securityhub,
    ssm,
)
from bot.remediations.base import (
    EXEMPT_TAG,
    Remediation,
    RemediationContext,
    RemediationParams,
    register,
    remediations,
    run,
    run_undo,
)

__all__ = [
    "EXEMPT_TAG",
    "Remediation",
    "RemediationContext",
    "RemediationParams",
    "register",
    "remediations",
    "run",
    "run_undo",
]
