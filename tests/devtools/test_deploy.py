"""make deploy's steps that run without an AWS account: parameters, and the artifacts
uploaded to a private bucket (against the emulator's S3)."""

from __future__ import annotations

import subprocess

import boto3
import pytest

from devtools import deploy
from tests.helpers import REPO


def test_parameters_are_key_value_words():
    assert deploy.parse_parameters(["MailIdentity=example.com", "AlarmEmail="]) == {
        "MailIdentity": "example.com",
        "AlarmEmail": "",
    }
    for bad in (["MailIdentity"], ["Mail-Identity=x"], ["=x"]):
        with pytest.raises(SystemExit):
            deploy.parse_parameters(bad)


def test_artifacts_go_to_a_private_bucket_once_and_the_template_points_there(aws_environment, tmp_path):
    s3 = boto3.client("s3", endpoint_url=aws_environment["AWS_ENDPOINT_URL"], region_name="us-east-1")
    (tmp_path / "user_api").mkdir()
    (tmp_path / "user_api" / "deployment.zip").write_bytes(b"PK user_api")
    (tmp_path / "migrate").mkdir()
    (tmp_path / "migrate" / "deployment.zip").write_bytes(b"PK migrate")
    template = {
        "Resources": {
            "A": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "user_api/deployment.zip"}},
            "B": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "user_api/deployment.zip"}},
            "M": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "migrate/deployment.zip"}},
            "Q": {"Type": "AWS::SQS::Queue", "Properties": {}},
        }
    }
    bucket = deploy.artifacts_bucket(s3, "000000000000", "us-east-1")
    assert deploy.artifacts_bucket(s3, "000000000000", "us-east-1") == bucket  # made once
    blocked = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(blocked.values())
    uploaded = deploy.with_uploaded_code(template, s3, bucket, build=tmp_path)
    code = {name: r["Properties"].get("CodeUri") for name, r in uploaded["Resources"].items()}
    assert code["A"] == code["B"] != code["M"]
    assert code["A"]["Bucket"] == bucket
    assert s3.get_object(Bucket=bucket, Key=code["M"]["Key"])["Body"].read() == b"PK migrate"
    assert len(s3.list_objects_v2(Bucket=bucket)["Contents"]) == 2
    assert template["Resources"]["A"]["Properties"]["CodeUri"] == "user_api/deployment.zip"  # not changed
    with pytest.raises(SystemExit, match="make package"):
        deploy.with_uploaded_code(
            {"Resources": {"X": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "none.zip"}}}},
            s3,
            bucket,
            build=tmp_path,
        )


def test_make_shows_the_commands_of_deploy_destroy_and_deploy_local():
    def shown(target: str, *args: str) -> str:
        return subprocess.run(
            ["make", "-n", target, *args], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout

    assert "devtools.deploy deploy --stage qa Key=Value" in shown("deploy", "STAGE=qa", "PARAMS=Key=Value")
    assert "devtools.package" in shown("deploy")
    assert "devtools.deploy destroy --stage qa" in shown("destroy", "STAGE=qa")
    local = shown("deploy-local")
    assert "docker compose -f localstack-compose.yml up" in local and "devtools.deploy deploy-local" in local


def test_an_update_keeps_the_parameters_it_is_not_given():
    sent = deploy.parameter_list({"Stage": "prod", "DeploymentId": "2"}, ["Stage", "DomainName", "DeploymentId"])
    assert {"ParameterKey": "DomainName", "UsePreviousValue": True} in sent
    assert {"ParameterKey": "Stage", "ParameterValue": "prod"} in sent
    assert len(sent) == 3
