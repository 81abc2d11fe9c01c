"""AWS clients, made once per Lambda container and pointed at ``AWS_ENDPOINT_URL`` when it is
set (LocalStack or moto's server on a laptop, nothing on AWS)."""

from __future__ import annotations

from functools import cache
from typing import Any

from .config import get_settings


@cache
def client(service: str, quick: bool = False) -> Any:
    """A boto3 client for ``service``. ``quick`` is for calls that have a fallback (a user is
    waiting, or SQS will retry): one attempt, 1 s to connect and 2 s to answer. Otherwise
    2 attempts with 2 s and 5 s."""
    import boto3  # part of the Lambda runtime; imported late so apps that never call AWS start faster
    from botocore.config import Config

    settings = get_settings()
    if quick:
        config = Config(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 1, "mode": "standard"})
    else:
        config = Config(connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 2, "mode": "standard"})
    return boto3.client(service, region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url, config=config)
