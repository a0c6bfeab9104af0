#!/usr/bin/env python3
"""Renders the Helm chart's templates with its values and checks the Kubernetes objects.

Helm itself is not packaged for Debian 12 and no chart linter installs from Debian's or
npm's registries, so this renders the small template subset the chart uses (values,
release and chart fields, `quote`, `b64enc`, `toYaml`, `indent`/`nindent`) and fails on
anything else, so a template feature this script does not know cannot pass unchecked.
The output must be valid YAML, and each object must have what the API server requires
and what the chart promises (2 replicas, readiness on /readyz, liveness on /healthz, the
Secret the pods read, a Service and a PodDisruptionBudget that select the pods).

    deploy/check_helm.py deploy/helm/scribe [--values extra.yaml] [--print]
"""
import argparse
import base64
import pathlib
import re
import sys

import yaml

EXPR = re.compile(r"(\s*)\{\{(-?)\s*(.*?)\s*(-?)\}\}(\s*)", re.S)


class RenderError(Exception):
    pass


def lookup(path, scope):
    value = scope
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise RenderError(f"{path}: not set in the values")
        value = value[part]
    return value


def to_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        raise RenderError("a value is null")
    if isinstance(value, (dict, list)):
        raise RenderError("a map or list needs toYaml")
    return str(value)


def evaluate(expression, scope):
    stages = [s.strip() for s in expression.split("|")]
    head = stages[0].split()
    if head[0] == "toYaml" and len(head) == 2:
        value = yaml.safe_dump(lookup(head[1].lstrip("."), scope), default_flow_style=False,
                               sort_keys=False).rstrip("\n")
    elif len(head) == 1 and head[0].startswith("."):
        value = lookup(head[0][1:], scope)
    elif len(head) == 1 and head[0].startswith('"') and head[0].endswith('"'):
        value = head[0][1:-1]
    else:
        raise RenderError(f"unsupported template expression: {{{{ {expression} }}}}")
    for stage in stages[1:]:
        words = stage.split()
        if words == ["quote"]:
            value = '"' + to_text(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        elif words == ["b64enc"]:
            value = base64.b64encode(to_text(value).encode()).decode()
        elif len(words) == 2 and words[0] in ("indent", "nindent") and words[1].isdigit():
            pad = " " * int(words[1])
            value = "\n".join(pad + line for line in to_text(value).split("\n"))
            if words[0] == "nindent":
                value = "\n" + value
        else:
            raise RenderError(f"unsupported template function: {stage}")
    return to_text(value)


def render(text, scope):
    def substitute(m):
        before, trim_left, expression, trim_right, after = m.groups()
        if expression.startswith("/*"):
            return ("" if trim_left else before) + ("" if trim_right else after)
        value = evaluate(expression, scope)
        return ("" if trim_left else before) + value + ("" if trim_right else after)

    out = EXPR.sub(substitute, text)
    if "{{" in out or "}}" in out:
        raise RenderError("a template expression was left unrendered")
    return out


def deep_merge(base, extra):
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            deep_merge(base[k], v)
        else:
            base[k] = v
    return base


def require(cond, message, problems):
    if not cond:
        problems.append(message)


def check(objects, values, problems):
    by_kind = {}
    for o in objects:
        where = f"{o.get('kind', '?')} {o.get('metadata', {}).get('name', '?')}"
        for field in ("apiVersion", "kind", "metadata"):
            require(field in o, f"{where}: no {field}", problems)
        require(bool(o.get("metadata", {}).get("name")), f"{where}: no metadata.name", problems)
        by_kind.setdefault(o.get("kind"), []).append(o)
    for kind in ("Deployment", "Service", "Secret", "PodDisruptionBudget"):
        require(len(by_kind.get(kind, [])) == 1, f"expected one {kind}", problems)
    if problems:
        return
    dep = by_kind["Deployment"][0]
    require(dep["apiVersion"] == "apps/v1", "Deployment: apiVersion apps/v1", problems)
    spec = dep.get("spec", {})
    require(spec.get("replicas") == values["replicaCount"], "Deployment: replicas", problems)
    require(isinstance(spec.get("replicas"), int) and spec["replicas"] >= 2,
            "Deployment: at least 2 replicas", problems)
    selector = spec.get("selector", {}).get("matchLabels", {})
    labels = spec.get("template", {}).get("metadata", {}).get("labels", {})
    require(selector and all(labels.get(k) == v for k, v in selector.items()),
            "Deployment: selector.matchLabels must match the pod labels", problems)
    containers = spec.get("template", {}).get("spec", {}).get("containers", [])
    require(len(containers) == 1, "Deployment: one container", problems)
    if containers:
        c = containers[0]
        for field in ("name", "image"):
            require(bool(c.get(field)), f"container: no {field}", problems)
        ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
        require(ports.get("http") == 8080, "container: port http 8080", problems)
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        require(env.get("SCRIBE_LISTEN") == "0.0.0.0:8080", "container: SCRIBE_LISTEN", problems)
        for e in c.get("env", []):
            require("name" in e and isinstance(e.get("value", ""), str),
                    f"container env {e}: name and a string value", problems)
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            get = c.get(probe, {}).get("httpGet", {})
            require(get.get("path") == path, f"container: {probe} on {path}", problems)
            require(get.get("port") in ("http", 8080), f"container: {probe} port", problems)
        secret_refs = [s.get("secretRef", {}).get("name") for s in c.get("envFrom", [])]
        require(by_kind["Secret"][0]["metadata"]["name"] in secret_refs,
                "container: envFrom must name the chart's Secret", problems)
        require(c.get("securityContext", {}).get("allowPrivilegeEscalation") is False,
                "container: allowPrivilegeEscalation false", problems)
    pod_security = spec.get("template", {}).get("spec", {}).get("securityContext", {})
    require(pod_security.get("runAsNonRoot") is True, "pod: runAsNonRoot", problems)

    secret = by_kind["Secret"][0]
    data = secret.get("stringData", {})
    require(all(isinstance(v, str) for v in data.values()),
            "Secret: every stringData value must be a string", problems)
    require(str(data.get("SCRIBE_DB", "")).startswith(("postgresql://", "postgres://")),
            "Secret: SCRIBE_DB must be a postgresql:// URL (replicas share one database)",
            problems)

    svc = by_kind["Service"][0]
    require(svc.get("spec", {}).get("selector") == selector,
            "Service: selector must match the pods", problems)
    ports = svc.get("spec", {}).get("ports", [])
    require(len(ports) >= 1 and all("port" in p for p in ports), "Service: ports", problems)

    pdb = by_kind["PodDisruptionBudget"][0]
    require(pdb["apiVersion"] == "policy/v1", "PodDisruptionBudget: apiVersion policy/v1", problems)
    pspec = pdb.get("spec", {})
    require(pspec.get("selector", {}).get("matchLabels") == selector,
            "PodDisruptionBudget: selector must match the pods", problems)
    require(("minAvailable" in pspec) != ("maxUnavailable" in pspec),
            "PodDisruptionBudget: minAvailable or maxUnavailable", problems)
    if isinstance(pspec.get("minAvailable"), int):
        require(pspec["minAvailable"] < spec.get("replicas", 0),
                "PodDisruptionBudget: minAvailable below replicas, or no node can drain",
                problems)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("chart")
    parser.add_argument("--values", action="append", default=[])
    parser.add_argument("--print", action="store_true")
    args = parser.parse_args()
    chart = pathlib.Path(args.chart)
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    for field in ("apiVersion", "name", "version"):
        if field not in meta:
            sys.exit(f"{chart}/Chart.yaml: no {field}")
    values = yaml.safe_load((chart / "values.yaml").read_text())
    for extra in args.values:
        deep_merge(values, yaml.safe_load(pathlib.Path(extra).read_text()))
    scope = {
        "Values": values,
        "Release": {"Name": "check", "Namespace": "default", "Service": "Helm"},
        "Chart": {"Name": meta["name"], "Version": meta["version"],
                  "AppVersion": meta.get("appVersion", "")},
    }
    objects = []
    for template in sorted((chart / "templates").glob("*.yaml")):
        try:
            rendered = render(template.read_text(), scope)
            docs = [d for d in yaml.safe_load_all(rendered) if d is not None]
        except (RenderError, yaml.YAMLError) as e:
            sys.exit(f"{template}: {e}")
        if args.print:
            print(f"---\n# {template.name}\n{rendered}")
        objects.extend(docs)
    problems = []
    check(objects, values, problems)
    if problems:
        for p in problems:
            print(f"{chart}: {p}", file=sys.stderr)
        sys.exit(1)
    kinds = ", ".join(sorted(o["kind"] for o in objects))
    print(f"helm chart {chart}: rendered and checked {len(objects)} objects ({kinds})")


if __name__ == "__main__":
    main()
