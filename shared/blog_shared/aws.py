"""AWS clients, made once per Lambda container and pointed at ``AWS_ENDPOINT_URL`` when it is
set (LocalStack or moto's server on a laptop, nothing on AWS)."""

from __future__ import annotations

from functools import cache
from typing import Any

from .config import get_settings


@cache
def client(service: str) -> Any:
    """A boto3 client for ``service``. Short timeouts and few retries: a request that calls AWS
    must answer quickly even when the service is briefly down."""
    import boto3  # part of the Lambda runtime; imported late so apps that never call AWS start faster
    from botocore.config import Config

    settings = get_settings()
    return boto3.client(
        service,
        region_name=settings.aws_region,
        endpoint_url=settings.aws_endpoint_url,
        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"}),
    )
