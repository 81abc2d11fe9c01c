"""The packaged stack, run as build/template.yaml wires it (see local_aws.py and resolve.py)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from devtools import aws, stack
from devtools.package import package, package_migrations
from tests.helpers import SES_SENDER, empty_database
from tests.stack.local_aws import Distribution, Function, Gateway, lambda_environment
from tests.stack.resolve import Resolver

STACK_NAME = "blog-stack-test"
APPS = ("user_api", "post_api", "web_frontend")
HMAC_SECRET_RESOURCES = ("LinkSecret", "ServiceSecret", "UserApiClientSecret", "PostApiClientSecret", "CookieSecret")


@dataclass
class RunningStack:
    template: dict[str, Any]
    resolver: Resolver
    functions: dict[str, Function]
    gateways: dict[str, Gateway]
    site: Distribution
    endpoint: str
    queue_url: str
    queue_arn: str
    database_url: str
    bucket: str
    public_url: str = ""  # the distribution's https address (served locally by ``site``)
    extra: dict[str, Any] = field(default_factory=dict)

    def api(self, name: str) -> str:
        """An API's stage URL, as its clients (and the web function) use it."""
        return f"{self.gateways[name].url}/api"


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Every artifact, and the template `make package` writes for them."""
    build = tmp_path_factory.mktemp("build")
    outputs = {}
    for app in APPS:
        package(app, build / app)
        outputs[app] = json.loads((build / app / "sam.json").read_text())
    package_migrations(build / "migrate")
    return build, stack.build_template(outputs)


@pytest.fixture(scope="session")
def stack_database(database_url: str) -> Iterator[str]:
    """A database of its own, empty: the migration function builds its schema."""
    with empty_database(database_url, "stack_check") as url:
        yield url


@pytest.fixture(scope="session")
def running_stack(
    built: tuple[Path, dict[str, Any]],
    stack_database: str,
    aws_environment: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningStack]:
    build, template = built
    endpoint = aws_environment["AWS_ENDPOINT_URL"]
    work = tmp_path_factory.mktemp("lambda")
    emulator = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    secretsmanager, s3 = boto3.client("secretsmanager", **emulator), boto3.client("s3", **emulator)
    sqs = boto3.client("sqs", **emulator)

    # What CloudFormation would create, in the emulator (external database mode).
    suffix = secrets.token_hex(4)
    # The keys as the template makes them: the access keys empty (the AccessKeys custom
    # resource makes the first), the HMAC secrets random.
    initial = {"AccessSigningKey": "{}", "AccessPublicKeys": '{"keys": []}'}
    initial |= {name: secrets.token_urlsafe(48) for name in HMAC_SECRET_RESOURCES}
    secret_arns = {
        name: secretsmanager.create_secret(Name=f"stack-{name}-{suffix}", SecretString=value)["ARN"]
        for name, value in initial.items()
    }
    db_arn = secretsmanager.create_secret(Name=f"stack-db-{suffix}", SecretString=json.dumps({"url": stack_database}))[
        "ARN"
    ]
    queue_url, dlq_url = aws.prepare_mail(endpoint, f"stack-email-{suffix}", SES_SENDER, visibility_timeout=1)
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bucket = f"stack-avatars-{suffix}"
    s3.create_bucket(Bucket=bucket)

    # Host names the template composes, and their local equivalents.
    api_ids = {"UserApi": f"userapi{suffix}", "PostApi": f"postapi{suffix}", "WebApi": f"webapi{suffix}"}
    site_host = f"site{suffix}.cloudfront.net"
    functions_by_name = {
        logical: f"{STACK_NAME}-{resource['Properties']['FunctionName']['Fn::Sub'].rsplit('}-', 1)[1]}"
        for logical, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    resolver = Resolver(
        template,
        parameters={
            "Stage": "stacktest",
            "DatabaseMode": "external",
            "ExternalDatabaseSecretArn": db_arn,
            "ExternalDatabaseTls": "off",
            "MailSender": SES_SENDER,
            "MailSenderAddress": "no-reply@blog.test",
            "MailIdentity": "no-reply@blog.test",
        },
        refs={
            **secret_arns,
            "EmailQueue": queue_url,
            "EmailDeadLetterQueue": dlq_url,
            "AvatarBucket": bucket,
            **api_ids,
            **functions_by_name,
        },
        attributes={"EmailQueue.Arn": queue_arn, "Site.DomainName": site_host},
        pseudo={
            "AWS::StackName": STACK_NAME,
            "AWS::Region": "us-east-1",
            "AWS::AccountId": "123456789012",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        },
    )
    gateways = {
        name: Gateway(resolver.value(template["Resources"][name]["Properties"]["DefinitionBody"])) for name in api_ids
    }
    site = Distribution(gateways["WebApi"], s3, bucket)
    local_hosts = {
        f"https://{api_ids[name]}.execute-api.us-east-1.amazonaws.com": g.url for name, g in gateways.items()
    }
    local_hosts[f"https://{site_host}"] = site.url

    functions: dict[str, Function] = {}
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        variables = resolver.value(properties["Environment"]["Variables"])
        environment = lambda_environment(variables, endpoint)
        functions[logical] = Function(
            logical, build / properties["CodeUri"], properties["Handler"], environment, work, hosts=local_hosts
        )
    # Each API integrates the function whose name its routes invoke.
    for name, gateway in gateways.items():
        [uri] = {
            json.dumps(op["x-amazon-apigateway-integration"]["uri"])
            for ops in gateway_definition(template, name)["paths"].values()
            for op in ops.values()
        }
        [target] = [
            logical
            for logical, function_name in functions_by_name.items()
            if f":function:{function_name}/" in resolver.value(json.loads(uri))
        ]
        gateway.function = functions[target]
    running = RunningStack(
        template,
        resolver,
        functions,
        gateways,
        site,
        endpoint,
        queue_url,
        queue_arn,
        stack_database,
        bucket,
        public_url=f"https://{site_host}",
    )
    yield running
    for function in functions.values():
        function.stop()
    for gateway in gateways.values():
        gateway.stop()
    site.stop()


def gateway_definition(template: dict[str, Any], name: str) -> dict[str, Any]:
    definition: dict[str, Any] = template["Resources"][name]["Properties"]["DefinitionBody"]
    return definition
