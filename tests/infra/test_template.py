"""infra/template.yaml: cfn-lint finds nothing, the SAM transform expands it offline, and
devtools.stack refuses a template that disagrees with the apps."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devtools import stack
from tests.helpers import REPO, lint, sam_transform


@pytest.mark.slow  # cfn-lint takes about 2 s
def test_cfn_lint_finds_no_error_or_warning_in_the_source_template():
    result = lint("infra/template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_sam_transform_expands_the_source_template(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    expanded = sam_transform(stack.load_source())
    resources = expanded["Resources"]
    assert not any(r["Type"].startswith("AWS::Serverless::") for r in resources.values())
    mapping = resources["SendEmailFunctionMail"]["Properties"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "MailConcurrency"}}
    assert {"UserApiapiStage", "PostApiapiStage", "WebApiapiStage"} <= set(resources)


# The one statement allowed on every resource: placing a function in the VPC (these EC2 actions
# take no resource-level restriction).
NETWORK_INTERFACES = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}


def policies(role: dict[str, Any]) -> list[dict[str, Any]]:
    """A role's inline policies, both branches of a conditional one included."""
    found = []
    for policy in role["Properties"].get("Policies", []):
        if "Fn::If" in policy:
            found += [
                branch for branch in policy["Fn::If"][1:] if isinstance(branch, dict) and "PolicyDocument" in branch
            ]
        else:
            found.append(policy)
    return found


def test_no_policy_allows_everything_and_each_role_logs_to_its_own_group():
    template = stack.load_source()
    roles = {name: r for name, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    functions = {name: r for name, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert len(roles) == len(functions) + 1  # one per function, and the database proxy's
    for role in roles.values():
        assert "ManagedPolicyArns" not in role["Properties"]  # AWS's managed ones allow logs on *
    for name, function in functions.items():
        role_name = function["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = [s for p in policies(roles[role_name]) for s in p["PolicyDocument"]["Statement"]]
        for statement in statements:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not any(action.endswith("*") for action in actions), (name, statement)
            if statement["Resource"] == "*":
                assert set(actions) == NETWORK_INTERFACES, (name, statement)
        logs = [s for s in statements if "logs:PutLogEvents" in s["Action"]]
        [log_group] = [s["Resource"]["Fn::GetAtt"][0] for s in logs]
        group = template["Resources"][log_group]["Properties"]["LogGroupName"]["Fn::Sub"]
        assert group == function["Properties"]["FunctionName"]["Fn::Sub"].replace(
            "${AWS::StackName}", "/aws/lambda/${AWS::StackName}"
        )
    [ses] = [
        s
        for p in policies(roles["SendEmailRole"])
        for s in p["PolicyDocument"]["Statement"]
        if s["Action"] == "ses:SendRawEmail"
    ]
    assert ses["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "MailSenderAddress"}}}


def test_nothing_is_fixed_to_one_stage():
    text = (REPO / "infra" / "template.yaml").read_text()
    assert "prod" not in text.replace("Default: prod", "")
    for app in ("user_api", "post_api", "web_frontend"):
        config = json.loads((REPO / app / ".chalice" / "config.json").read_text())
        assert "prod" not in json.dumps(config)
        assert not list((REPO / app / ".chalice").glob("policy-*.json"))


def chalice_output(functions: dict[str, str], with_api: bool = True) -> dict[str, Any]:
    """A small stand-in for `chalice package` output: functions by name and their handlers."""
    resources: dict[str, Any] = {
        name: {"Type": "AWS::Serverless::Function", "Properties": {"Handler": handler}}
        for name, handler in functions.items()
    }
    if with_api:
        integration = {"type": "aws_proxy", "uri": {"Fn::Sub": "${APIHandler.Arn}"}}
        resources["RestAPI"] = {
            "Type": "AWS::Serverless::Api",
            "Properties": {
                "DefinitionBody": {"paths": {"/a": {"get": {"x-amazon-apigateway-integration": integration}}}}
            },
        }
    return {"Resources": resources}


USER_API = {
    "APIHandler": "app.app",
    "SendEmail": "chalicelib.mail.handlers.send_email",
    "RepublishStalledMail": "chalicelib.mail.schedule.republish_stalled_mail",
    "ManageAccessKeys": "chalicelib.keys.handlers.manage_access_keys",
}


def test_the_routes_come_from_chalice_and_integrate_the_function_by_name():
    template = stack.load_source()
    stack.merge_app(template, "user_api", chalice_output(USER_API))
    body = template["Resources"]["UserApi"]["Properties"]["DefinitionBody"]
    uri = body["paths"]["/a"]["get"]["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
    assert uri.endswith(":function:${AWS::StackName}-user-api/invocations")


@pytest.mark.parametrize(
    ("functions", "message"),
    [
        ({**USER_API, "Extra": "chalicelib.extra.handler"}, "Extra"),
        ({k: v for k, v in USER_API.items() if k != "SendEmail"}, "SendEmail"),
        ({**USER_API, "SendEmail": "chalicelib.mail.other"}, "SendEmail"),
    ],
)
def test_a_function_the_template_does_not_declare_as_chalice_does_is_refused(functions, message):
    with pytest.raises(stack.TemplateError, match=message):
        stack.merge_app(stack.load_source(), "user_api", chalice_output(functions))


def test_mail_that_ses_refuses_for_good_raises_an_alarm():
    """The metric filter counts the line the mail function logs for such a mail (that the
    function logs it is tested in tests/user_api/test_mail_faults.py); the alarm tells the operators."""
    resources = stack.load_source()["Resources"]
    metric = resources["MailRefusedMetric"]["Properties"]
    assert metric["LogGroupName"] == {"Ref": "SendEmailLogs"}
    term = metric["FilterPattern"].strip('"')
    handlers = (REPO / "user_api" / "chalicelib" / "mail" / "handlers.py").read_text()
    assert f'log.warning("mail %s: {term}, not retried' in handlers
    [transformation] = metric["MetricTransformations"]
    alarm = resources["MailRefusedAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (transformation["MetricNamespace"], "MailRefused")
    assert alarm["AlarmActions"] == [{"Ref": "OperatorsTopic"}] and alarm["Threshold"] == 0
