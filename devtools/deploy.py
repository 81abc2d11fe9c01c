"""``make deploy``, ``make destroy`` and ``make deploy-local``: the stack of build/template.yaml
through the CloudFormation API (boto3; no SAM CLI needed).

Deploying uploads every artifact the template names, and the template itself, to a private
bucket of the account (``serverless-blog-artifacts-<account>-<region>``, made on first use;
keys are content hashes, so an unchanged artifact is not sent again), points every
``CodeUri`` there, then creates or updates the stack with a change set and prints its
outputs. CloudFormation applies the SAM transform itself. ``AWS_ENDPOINT_URL`` sends all of
this to LocalStack instead (``make deploy-local``).

    python -m devtools.deploy deploy  --stage prod [Key=Value ...]
    python -m devtools.deploy destroy --stage prod
    python -m devtools.deploy deploy-local [Key=Value ...]   (AWS_ENDPOINT_URL: LocalStack)
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from devtools.stack import BUILD

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]


def stack_name(stage: str) -> str:
    return f"serverless-blog-{stage}"


def parse_parameters(pairs: list[str]) -> dict[str, str]:
    """``Key=Value`` words (``PARAMS`` of the Makefile) as a dict; refuses anything else."""
    parameters: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isalnum():
            raise SystemExit(f"not a Key=Value parameter: {pair!r}")
        parameters[key] = value
    return parameters


def client(service: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)


def artifacts_bucket(s3: Any, account: str, region: str) -> str:
    """The account's private bucket for deployment artifacts (made when missing)."""
    name = f"serverless-blog-artifacts-{account}-{region}"
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if name not in existing:
        options = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=name, **options)
        s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
    return name


def upload(s3: Any, bucket: str, path: Path) -> str:
    """Put ``path`` under its content hash (once) and return its key."""
    data = path.read_bytes()
    key = f"artifacts/{hashlib.sha256(data).hexdigest()}{path.suffix}"
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError:
        s3.put_object(Bucket=bucket, Key=key, Body=data, ServerSideEncryption="AES256")
    return key


def with_uploaded_code(template: dict[str, Any], s3: Any, bucket: str, build: Path = BUILD) -> dict[str, Any]:
    """The template with every function's local CodeUri replaced by its uploaded copy."""
    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            local = build / resource["Properties"]["CodeUri"]
            if not local.is_file():
                raise SystemExit(f"{local} is missing: run `make package` first")
            resource["Properties"]["CodeUri"] = {"Bucket": bucket, "Key": upload(s3, bucket, local)}
    return template


def stack_state(cloudformation: Any, name: str) -> tuple[str | None, list[str]]:
    """The stack's status (None when there is none) and the names of its parameters."""
    try:
        [found] = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except cloudformation.exceptions.ClientError as error:
        if "does not exist" in str(error):
            return None, []
        raise
    return found["StackStatus"], [p["ParameterKey"] for p in found.get("Parameters", [])]


def parameter_list(given: dict[str, str], previous: list[str]) -> list[dict[str, Any]]:
    """What to send: the values given, and for every other parameter of the running stack its
    previous value (CloudFormation's API would otherwise reset it to the template's default)."""
    values: list[dict[str, Any]] = [{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()]
    values += [{"ParameterKey": k, "UsePreviousValue": True} for k in previous if k not in given]
    return values


def deploy(stage: str, parameters: dict[str, str]) -> int:
    sts, s3, cloudformation = client("sts"), client("s3"), client("cloudformation")
    region = cloudformation.meta.region_name
    account = sts.get_caller_identity()["Account"]
    name = stack_name(stage)
    print(f"[1/4] uploading the artifacts of build/ for {name} ({account}, {region})", flush=True)
    bucket = artifacts_bucket(s3, account, region)
    template = with_uploaded_code(json.loads((BUILD / "template.yaml").read_text()), s3, bucket)
    template_key = upload_text(s3, bucket, json.dumps(template))
    template_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": template_key})
    values = {"Stage": stage, "DeploymentId": str(int(time.time())), **parameters}
    change_set = f"deploy-{values['DeploymentId']}"
    status, previous = stack_state(cloudformation, name)
    if status == "ROLLBACK_COMPLETE":  # a first deployment that failed: it can only be deleted
        print(f"      {name} failed to create before; deleting it first", flush=True)
        cloudformation.delete_stack(StackName=name)
        cloudformation.get_waiter("stack_delete_complete").wait(StackName=name)
        status, previous = None, []
    update = status is not None and status != "REVIEW_IN_PROGRESS"
    print(f"[2/4] change set {change_set} ({'update' if update else 'new stack'})", flush=True)
    cloudformation.create_change_set(
        StackName=name,
        ChangeSetName=change_set,
        ChangeSetType="UPDATE" if update else "CREATE",
        TemplateURL=template_url,
        Capabilities=CAPABILITIES,
        Parameters=parameter_list(values, previous if update else []),
    )
    cloudformation.get_waiter("change_set_create_complete").wait(
        StackName=name, ChangeSetName=change_set, WaiterConfig={"Delay": 5, "MaxAttempts": 120}
    )
    print("[3/4] executing it (a new stack with Aurora and CloudFront takes 15 to 30 minutes)", flush=True)
    cloudformation.execute_change_set(StackName=name, ChangeSetName=change_set)
    waiter = "stack_update_complete" if update else "stack_create_complete"
    cloudformation.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 15, "MaxAttempts": 240})
    print("[4/4] outputs", flush=True)
    for output in cloudformation.describe_stacks(StackName=name)["Stacks"][0].get("Outputs", []):
        print(f"  {output['OutputKey']:<24} {output['OutputValue']}")
    return 0


def upload_text(s3: Any, bucket: str, text: str) -> str:
    key = f"templates/{hashlib.sha256(text.encode()).hexdigest()}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=text.encode(), ServerSideEncryption="AES256")
    return key


def destroy(stage: str) -> int:
    cloudformation = client("cloudformation")
    name = stack_name(stage)
    print(f"deleting {name}: Aurora leaves a final snapshot, the avatar bucket is kept", flush=True)
    cloudformation.delete_stack(StackName=name)
    cloudformation.get_waiter("stack_delete_complete").wait(
        StackName=name, WaiterConfig={"Delay": 15, "MaxAttempts": 240}
    )
    print(f"{name} is gone")
    return 0


# What LocalStack's Lambda containers reach: the compose file's PostgreSQL, by its service name
# on the compose network (LAMBDA_DOCKER_NETWORK in localstack-compose.yml).
LOCAL_DATABASE_URL = "postgresql://blog:blog@postgres:5432/blog"
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


def deploy_local(parameters: dict[str, str]) -> int:
    """The template on LocalStack, in external database mode on the compose PostgreSQL."""
    if not os.environ.get("AWS_ENDPOINT_URL"):
        raise SystemExit("deploy-local needs AWS_ENDPOINT_URL (LocalStack's address)")
    for key, value in LOCAL_CREDENTIALS.items():
        os.environ.setdefault(key, value)
    secrets = client("secretsmanager")
    name = "serverless-blog-local/database"
    try:
        arn = secrets.describe_secret(SecretId=name)["ARN"]
    except secrets.exceptions.ResourceNotFoundException:
        arn = secrets.create_secret(Name=name, SecretString=json.dumps({"url": LOCAL_DATABASE_URL}))["ARN"]
    local = {"DatabaseMode": "external", "ExternalDatabaseSecretArn": arn, "ExternalDatabaseTls": "off"}
    return deploy("local", {**local, **parameters})


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.deploy")
    parser.add_argument("action", choices=["deploy", "destroy", "deploy-local"])
    parser.add_argument("--stage", default="local")
    parser.add_argument("parameters", nargs="*", help="template parameters as Key=Value")
    args = parser.parse_args(argv)
    if args.action == "destroy":
        return destroy(args.stage)
    if args.action == "deploy-local":
        return deploy_local(parse_parameters(args.parameters))
    return deploy(args.stage, parse_parameters(args.parameters))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
