"""CloudFormation's intrinsic functions, evaluated locally: the template's values with every
reference replaced by the local equivalent of what it names (a parameter's value, the
emulator's queue URL for ``!Ref EmailQueue``, ...)."""

from __future__ import annotations

import re
from typing import Any

NO_VALUE = object()  # AWS::NoValue: the property is left out


class Resolver:
    def __init__(
        self,
        template: dict[str, Any],
        parameters: dict[str, str],
        refs: dict[str, str],
        attributes: dict[str, str],
        pseudo: dict[str, str],
    ) -> None:
        declared = template.get("Parameters", {})
        self.parameters = {name: str(spec.get("Default", "")) for name, spec in declared.items()} | parameters
        unknown = set(parameters) - set(declared)
        if unknown:
            raise KeyError(f"not parameters of the template: {unknown}")
        self.refs = refs  # logical id -> what !Ref gives
        self.attributes = attributes  # "LogicalId.Attribute" -> what !GetAtt gives
        self.pseudo = pseudo  # AWS::Region and friends
        self.conditions_source = template.get("Conditions", {})
        self.conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.value(self.conditions_source[name]))
        return self.conditions[name]

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise KeyError(f"no local equivalent for !Ref {name}")

    def get_att(self, name: str, attribute: str) -> Any:
        key = f"{name}.{attribute}"
        if key not in self.attributes:
            raise KeyError(f"no local equivalent for !GetAtt {key}")
        return self.attributes[key]

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!]+)\}", one, text)

    def value(self, node: Any) -> Any:
        """``node`` with every intrinsic function evaluated (NO_VALUE entries dropped)."""
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            [(key, arg)] = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                return self.get_att(*arg) if isinstance(arg, list) else self.get_att(*arg.split(".", 1))
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.value(arg[1]))
                return self.sub(text, variables)
            if key == "Fn::If":
                name, yes, no = arg
                return self.value(yes if self.condition(name) else no)
            if key == "Fn::Equals":
                left, right = (self.value(v) for v in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.value(arg[0])
            if key == "Fn::And":
                return all(self.value(v) for v in arg)
            if key == "Fn::Or":
                return any(self.value(v) for v in arg)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Join":
                separator, items = arg
                return separator.join(str(v) for v in self.value(items))
            if key == "Fn::Select":
                index, items = arg
                return self.value(items)[int(self.value(index))]
        resolved = {k: self.value(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}
