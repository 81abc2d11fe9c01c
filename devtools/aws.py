"""The local AWS emulator: LocalStack if one answers at AWS_ENDPOINT_URL, else moto's
server started on 127.0.0.1:4566 (LocalStack's port, so tools made for LocalStack find it too)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def answering(endpoint: str) -> str | None:
    """ "localstack", "moto" or None, by what answers at ``endpoint``."""
    try:
        if requests.get(f"{endpoint}/_localstack/health", timeout=1).ok:
            return "localstack"
    except requests.RequestException:
        return None
    try:
        if requests.get(f"{endpoint}/moto-api/data.json", timeout=1).ok:
            return "moto"
    except requests.RequestException:
        pass
    return None


def address(endpoint: str) -> tuple[str, int]:
    """(host, port) of an endpoint URL, as moto would be started there."""
    parsed = urlparse(endpoint)
    return parsed.hostname or "127.0.0.1", parsed.port or 4566


def start_moto(endpoint: str, log_path: Path | None = None) -> subprocess.Popen[bytes]:
    host, port_number = address(endpoint)
    port = str(port_number)
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - owned by the child
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", host, "-p", port],
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, **FAKE_CREDENTIALS},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if answering(endpoint):
            return process
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with {process.returncode} (is port {port} taken?)")
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"moto server did not answer at {endpoint}")


def ensure_emulator(
    endpoint: str | None = None, log_path: Path | None = None
) -> tuple[str, subprocess.Popen[bytes] | None]:
    """The endpoint of a running emulator, and the process if we had to start one."""
    endpoint = (endpoint or os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT).rstrip("/")
    if answering(endpoint):
        return endpoint, None
    return endpoint, start_moto(endpoint, log_path)


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def client(service: str, endpoint: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=FAKE_CREDENTIALS["AWS_REGION"],
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def prepare(endpoint: str, env: dict[str, str]) -> None:
    """Create what the apps expect in the emulator (idempotent): the avatar bucket, whose
    pictures anyone may read (as on AWS, where the template gives it the same policy)."""
    s3 = client("s3", endpoint)
    bucket = env["AVATAR_BUCKET"]
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
    public_pictures = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/avatars/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_pictures))


MAX_RECEIVES = 5  # as in infra/template.yaml: the sixth receive goes to the dead-letter queue


def prepare_mail(endpoint: str, queue_name: str, sender: str, visibility_timeout: int = 60) -> tuple[str, str]:
    """The mail queue and its dead-letter queue (``<name>-dlq``), and the SES sender identity,
    as infra/template.yaml makes them on AWS. Returns (queue URL, dead-letter queue URL)."""
    sqs = client("sqs", endpoint)
    dlq_url = sqs.create_queue(QueueName=f"{queue_name}-dlq", Attributes={"MessageRetentionPeriod": "1209600"})[
        "QueueUrl"
    ]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)})
    url = sqs.create_queue(
        QueueName=queue_name, Attributes={"VisibilityTimeout": str(visibility_timeout), "RedrivePolicy": redrive}
    )["QueueUrl"]
    address = parseaddr(sender)[1]
    client("ses", endpoint).verify_email_identity(EmailAddress=address)
    return url, dlq_url
