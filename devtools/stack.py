"""The deployable template, ``build/template.yaml``, from ``infra/template.yaml`` and the apps'
artifacts.

``infra/template.yaml`` declares every resource, each function included. Chalice knows each
app's routes and handlers: ``chalice package`` writes them into ``build/<app>/sam.json``. This
module copies into the template what only Chalice knows (each API's ``DefinitionBody``, with
every route integrating the function the template names) and points every ``CodeUri`` at its
artifact, after checking that the template and Chalice agree on every function and handler.
The result is JSON (which is YAML), with every intrinsic function in its long form.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "infra" / "template.yaml"
BUILD = REPO / "build"

Template = dict[str, Any]


class TemplateError(RuntimeError):
    """infra/template.yaml and the apps' Chalice output do not agree."""


def load_source(path: Path = SOURCE) -> Template:
    """``infra/template.yaml`` with its YAML shorthand (``!Ref``, anchors) expanded."""
    from cfnlint.decode import decode

    template, problems = decode(str(path))
    if problems or template is None:
        raise TemplateError(f"{path} does not parse: {problems}")
    loaded: Template = json.loads(json.dumps(template))  # plain dicts and lists
    return loaded


def _functions_of(template: Template, app: str) -> dict[str, dict[str, Any]]:
    """The template's functions of ``app`` by the name Chalice gives them (Metadata.ChaliceFunction)."""
    found: dict[str, dict[str, Any]] = {}
    for resource in template["Resources"].values():
        metadata = resource.get("Metadata") or {}
        if resource["Type"] == "AWS::Serverless::Function" and metadata.get("App") == app:
            found[metadata.get("ChaliceFunction", "")] = resource
    return found


def _api_of(template: Template, app: str) -> dict[str, Any] | None:
    apis: list[dict[str, Any]] = [
        resource
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Api" and (resource.get("Metadata") or {}).get("App") == app
    ]
    return apis[0] if apis else None


def _placeholder_uri(api: dict[str, Any]) -> Any:
    """The integration URI of the template's own route: the function by its name."""
    for operations in api["Properties"]["DefinitionBody"]["paths"].values():
        for operation in operations.values():
            return operation["x-amazon-apigateway-integration"]["uri"]
    raise TemplateError("the API in infra/template.yaml has no route to copy the integration from")


def merge_app(template: Template, app: str, chalice: Template) -> None:
    """Put what ``chalice package`` knows of ``app`` into ``template`` (in place)."""
    ours = _functions_of(template, app)
    theirs = {
        name: resource
        for name, resource in chalice["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    if set(ours) != set(theirs):
        raise TemplateError(
            f"{app}: Chalice has the functions {sorted(theirs)}, infra/template.yaml declares {sorted(ours)} "
            "(give each a function with Metadata {App, ChaliceFunction})"
        )
    for name, function in ours.items():
        handler = theirs[name]["Properties"]["Handler"]
        if function["Properties"]["Handler"] != handler:
            raise TemplateError(f"{app}.{name}: Chalice's handler is {handler}, the template says otherwise")
    api = _api_of(template, app)
    chalice_api = chalice["Resources"].get("RestAPI")
    if (api is None) != (chalice_api is None):
        raise TemplateError(f"{app}: the template and Chalice disagree on whether it has a REST API")
    if api is not None and chalice_api is not None:
        uri = _placeholder_uri(api)
        body = copy.deepcopy(chalice_api["Properties"]["DefinitionBody"])
        for operations in body["paths"].values():
            for operation in operations.values():
                integration = operation.get("x-amazon-apigateway-integration")
                if integration is not None:
                    integration["uri"] = uri
        api["Properties"]["DefinitionBody"] = body


def relative_code_uris(template: Template) -> None:
    """``../build/<app>/deployment.zip`` (as seen from infra/) becomes ``<app>/deployment.zip``
    (as seen from build/template.yaml)."""
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            uri = resource["Properties"]["CodeUri"]
            if not uri.startswith("../build/"):
                raise TemplateError(f"CodeUri {uri!r} is not an artifact under build/")
            resource["Properties"]["CodeUri"] = uri.removeprefix("../build/")


def apps_in(template: Template) -> list[str]:
    """The Chalice apps the template's functions come from (every App but the migration's)."""
    apps = {(r.get("Metadata") or {}).get("App") for r in template["Resources"].values()}
    return sorted(app for app in apps if app and (REPO / app / "app.py").exists())


def build_template(chalice_outputs: dict[str, Template], source: Path = SOURCE) -> Template:
    template = load_source(source)
    for app in apps_in(template):
        if app not in chalice_outputs:
            raise TemplateError(f"no `chalice package` output for {app}")
        merge_app(template, app, chalice_outputs[app])
    # The artifacts hold wheels and bytecode for the Python that built them: run on that one.
    runtimes = {
        resource["Properties"]["Runtime"]
        for output in chalice_outputs.values()
        for resource in output["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    if len(runtimes) != 1:
        raise TemplateError(f"the artifacts were built for different runtimes: {sorted(runtimes)}")
    template["Globals"]["Function"]["Runtime"] = runtimes.pop()
    relative_code_uris(template)
    return template


def write_template(out: Path = BUILD / "template.yaml") -> Path:
    """``build/template.yaml`` from the source and ``build/<app>/sam.json`` (run after packaging)."""
    outputs = {app: json.loads((BUILD / app / "sam.json").read_text()) for app in apps_in(load_source())}
    out.write_text(json.dumps(build_template(outputs), indent=1) + "\n")
    return out
