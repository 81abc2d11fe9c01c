"""CloudFormation custom resources served by our functions (the migration, the access keys)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any


def respond(event: dict[str, Any], status: str, reason: str, physical_id: str) -> None:
    """PUT the custom resource's outcome to the pre-signed URL CloudFormation gave."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason,
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
        }
    ).encode()
    request = urllib.request.Request(  # the pre-signed S3 URL from CloudFormation's event
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()
