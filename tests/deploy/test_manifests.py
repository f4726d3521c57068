"""deploy/k8s validates offline and stays in step with the code.

- the generated manifests are up to date with the Procfile and the code (deploy/k8s/generate.py);
- every overlay, and the base with each component, builds with the pinned kubectl (kustomize);
- built-in kinds pass `kubernetes-validate --strict`; custom resources (Strimzi, CNPG,
  OpenTelemetry, KEDA, Prometheus operator) pass their CRD schemas from ../shared/k8s-schemas
  (or K8S_SCHEMAS_DIR); without those, the test says loudly that the deep check did not run
  and still runs structural checks;
- cross-checks: Procfile -> Deployments, topics -> KafkaTopics and ACLs, settings -> values or
  documented defaults, ports -> Services and probes, dashboard/alert metrics -> the code.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBECTL = Path(sys.executable).parent / "kubectl"
K8S_VERSION = "1.37.0"
COMPONENTS = sorted(p.name for p in (K8S / "components").iterdir() if p.is_dir())
CUSTOM_GROUPS = ("kafka.strimzi.io", "postgresql.cnpg.io", "opentelemetry.io", "keda.sh", "monitoring.coreos.com")

sys.path.insert(0, str(K8S))
generate = importlib.import_module("generate")
generate.service_facts = functools.cache(generate.service_facts)  # imports and builds consumers once


def schemas_dir() -> Path | None:
    """K8S_SCHEMAS_DIR, else ../shared/k8s-schemas from the checkout (or from the folder of
    worktrees the checkout sits in)."""
    if os.environ.get("K8S_SCHEMAS_DIR"):
        d = Path(os.environ["K8S_SCHEMAS_DIR"])
        return d if d.is_dir() else None
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "k8s-schemas").is_dir():
            return base / "shared" / "k8s-schemas"
    return None


@functools.cache
def build(target: str) -> list[dict]:
    """`kubectl kustomize` of an overlay, or of the base with one component (a throwaway kustomization)."""
    if target.startswith("component:"):
        tmp = ROOT / ".run" / "kustomize" / target.split(":", 1)[1]
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "kustomization.yaml").write_text(yaml.safe_dump({
            "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": [os.path.relpath(K8S / "base", tmp)],
            "components": [os.path.relpath(K8S / "components" / target.split(":", 1)[1], tmp)]}))
        path = tmp
    else:
        path = K8S / target
    res = subprocess.run([str(KUBECTL), "kustomize", str(path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"kubectl kustomize {path} failed:\n{res.stderr}"
    return [d for d in yaml.safe_load_all(res.stdout) if d]


TARGETS = ["overlays/dev", "overlays/prod", "base", *(f"component:{c}" for c in COMPONENTS)]


def test_generated_manifests_are_up_to_date():
    stale = [str(path.relative_to(ROOT)) for path, text in generate.render().items()
             if not path.exists() or path.read_text() != text]
    assert not stale, f"stale generated manifests, run `make manifests`: {stale}"


@pytest.mark.parametrize("target", TARGETS)
def test_builds_and_validates(target):
    docs = build(target)
    assert docs
    schemas = schemas_dir()
    if schemas is None:
        msg = ("DEEP CHECK DID NOT RUN: no CRD schemas at ../shared/k8s-schemas (set K8S_SCHEMAS_DIR); "
               "custom resources got structural checks only")
        print(f"\n!!! {msg} !!!", file=sys.stderr)
        warnings.warn(msg, stacklevel=1)
    import jsonschema

    errors = []
    for d in docs:
        kind, api = d["kind"], d["apiVersion"]
        where = f"{kind}/{d.get('metadata', {}).get('name')}"
        assert d.get("metadata", {}).get("name"), f"{where}: no name"
        group = api.split("/")[0] if "/" in api else ""
        if group in CUSTOM_GROUPS:
            assert isinstance(d.get("spec"), dict) and d["spec"], f"{where}: no spec"  # structural
            if schemas is not None:
                file = schemas / group / f"{kind.lower()}_{api.split('/')[1]}.json"
                assert file.exists(), f"{where}: no schema {file.name} for {api} (a kind without a schema fails)"
                v = jsonschema.Draft7Validator(json.loads(file.read_text()))
                errors += [f"{where}: {e.json_path}: {e.message}" for e in v.iter_errors(d)]
        else:
            try:
                kubernetes_validate.validate(d, K8S_VERSION, strict=True)
            except kubernetes_validate.ValidationError as e:
                errors.append(f"{where}: {e.path}: {e.message}")
    assert not errors, "\n".join(errors)


def _by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_every_procfile_process_has_a_deployment_with_probes_and_hardening():
    procs = generate.procfile_processes()
    assert procs, "no finance-<svc> <cmd> lines in the Procfile"
    for overlay in ("overlays/dev", "overlays/prod"):
        deps = _by_kind(build(overlay), "Deployment")
        missing = [f"{s}-{c}" for s, c in procs if f"{s}-{c}" not in deps]
        assert not missing, f"{overlay}: no Deployment for {missing}"
        for s, c in procs:
            pod = deps[f"{s}-{c}"]["spec"]["template"]["spec"]
            ctr = pod["containers"][0]
            assert ctr["command"] == [f"finance-{s}", c]
            assert pod["securityContext"]["runAsNonRoot"] and \
                pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
            assert ctr["securityContext"]["capabilities"]["drop"] == ["ALL"]
            assert ctr["securityContext"]["readOnlyRootFilesystem"] is True
            assert ctr["resources"]["requests"] and ctr["resources"]["limits"]
            assert ctr["livenessProbe"] and ctr["readinessProbe"]
            assert pod["serviceAccountName"] == s
    jobs = _by_kind(build("overlays/prod"), "Job")
    assert {f"{s}-migrate" for s, _ in procs if generate.service_facts(s)["database"]} <= set(jobs)


def test_ports_in_code_match_services_containers_and_probes():
    docs = build("overlays/prod")
    deps, svcs = _by_kind(docs, "Deployment"), _by_kind(docs, "Service")
    for s, c in generate.procfile_processes():
        facts = generate.service_facts(s)
        ctr = deps[f"{s}-{c}"]["spec"]["template"]["spec"]["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in ctr["ports"]}
        env = {e["name"]: e.get("value") for e in ctr["env"]}
        if c == "api":
            assert ports["http"] == facts["http_port"]
            assert ctr["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
            assert ctr["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
            assert svcs[s]["spec"]["ports"][0]["port"] == facts["http_port"]
        else:
            assert ports["metrics"] == int(env[f"{facts['prefix']}METRICS_PORT"])
        if c == "grpc":
            assert ports["grpc"] == facts["grpc_port"] == svcs[f"{s}-grpc"]["spec"]["ports"][0]["port"]
            assert ctr["livenessProbe"]["grpc"]["port"] == facts["grpc_port"]  # standard gRPC health
        if c in ("relay", "consume"):
            assert ctr["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
        for probe in ("livenessProbe", "readinessProbe"):
            port = ctr[probe].get("httpGet", {}).get("port")
            assert port is None or port in ports, f"{s}-{c}: {probe} names no container port"


def test_every_topic_the_code_uses_has_a_kafka_topic_and_acls():
    from fincore.events.registry import registry

    docs = build("overlays/prod")
    topics = {d["spec"]["topicName"]: d for d in docs if d["kind"] == "KafkaTopic"}
    users = _by_kind(docs, "KafkaUser")
    used = set(registry.topics())
    for s, c in generate.procfile_processes():
        facts = generate.service_facts(s)
        acls = [(a["resource"]["type"], a["resource"].get("name"), op)
                for a in users[f"finance-{s}"]["spec"]["authorization"]["acls"] for op in a["operations"]]
        if c == "relay":
            used.add(facts["events_topic"])
            assert ("topic", facts["events_topic"], "Write") in acls
        if c == "consume":
            used.add(facts["dlq_topic"])
            assert ("topic", facts["dlq_topic"], "Write") in acls
            for con in facts["consumers"]:
                used.update(con["topics"])
                assert ("group", con["group"], "Read") in acls
                assert all(("topic", t, "Read") in acls for t in con["topics"])
        changelogs = set()
        if (s, "position") in generate.procfile_processes():  # a faust worker: its changelog topics (a prefix)
            app_id = facts["settings"].position_app_id
            used.add("finance.gl.events.v1")
            assert ("group", app_id, "Read") in acls and ("topic", f"{app_id}-", "Create") in acls
            changelogs.add(f"{app_id}-")
        # Nothing beyond what the code uses.
        writes = {n for t, n, op in acls if t == "topic" and op == "Write"}
        assert writes <= {facts["events_topic"], facts["dlq_topic"], *changelogs}
    assert used - set(topics) == set(), f"topics with no KafkaTopic: {sorted(used - set(topics))}"
    for t in topics.values():
        assert t["spec"]["replicas"] == 3 and t["spec"]["config"]["min.insync.replicas"] == 2
        assert t["spec"]["config"]["retention.ms"] > 0


def test_consumer_autoscaling_is_capped_at_partitions():
    docs = build("overlays/prod")
    partitions = {d["spec"]["topicName"]: d["spec"]["partitions"] for d in docs if d["kind"] == "KafkaTopic"}
    for so in _by_kind(docs, "ScaledObject").values():
        cap = min(partitions[t["metadata"]["topic"]] for t in so["spec"]["triggers"])
        assert so["spec"]["maxReplicaCount"] <= cap, so["metadata"]["name"]


@pytest.mark.parametrize("overlay", ["overlays/dev", "overlays/prod"])
def test_the_cash_position_worker_runs_alone_and_never_overlaps_itself(overlay):
    """One replica by design (docs/operations.md): no patch scales it, no autoscaler targets it,
    and a rollout stops the old pod before the new one joins the consumer group."""
    docs = build(overlay)
    workers = [d for d in _by_kind(docs, "Deployment").values()
               if d["metadata"]["labels"].get("app.kubernetes.io/component") == "position"]
    assert [d["metadata"]["name"] for d in workers] == ["cashmgmt-position"]
    (w,) = workers
    assert (w["spec"]["replicas"], w["spec"]["strategy"]) == (1, {"type": "Recreate"})
    scaled = [so["spec"]["scaleTargetRef"]["name"] for so in _by_kind(docs, "ScaledObject").values()]
    scaled += [h["spec"]["scaleTargetRef"]["name"] for h in _by_kind(docs, "HorizontalPodAutoscaler").values()]
    assert "cashmgmt-position" not in scaled


def test_the_cockpit_reads_consumer_lag_from_prometheus_in_production():
    docs = build("overlays/prod")
    cockpit = _by_kind(docs, "Deployment")["cockpit-api"]
    env = {e["name"]: e.get("value") for e in cockpit["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["COCKPIT_PROMETHEUS_URL"].endswith(":9090")
    egress = [r for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "finance-cockpit-to-apis"
              for r in d["spec"]["egress"]]
    assert any({"protocol": "TCP", "port": 9090} in r.get("ports", []) for r in egress), "no egress to Prometheus"


def test_database_connections_fit_the_cluster():
    """Every pod with a database, at its maximum replica count (KEDA, HPA or replicas) plus a
    rolling update's surge (25 %, rounded up), holding its whole pool and burst overflow (and a
    relay its LISTEN connection), stays inside the PostgreSQL cluster's max_connections less
    what PostgreSQL and CloudNativePG keep for themselves (superuser, replication, monitoring)."""
    docs = build("overlays/prod")
    cluster = next(d for d in docs if d["kind"] == "Cluster")
    max_connections = int(cluster["spec"]["postgresql"]["parameters"]["max_connections"])
    scaled = {d["spec"]["scaleTargetRef"]["name"]: d["spec"]["maxReplicaCount"]
              for d in docs if d["kind"] == "ScaledObject"}
    scaled |= {d["spec"]["scaleTargetRef"]["name"]: d["spec"]["maxReplicas"]
               for d in docs if d["kind"] == "HorizontalPodAutoscaler"}
    total, with_db = 0, 0
    for name, dep in _by_kind(docs, "Deployment").items():
        env = {e["name"]: e.get("value") for c in dep["spec"]["template"]["spec"]["containers"]
               for e in c.get("env", [])}
        pool = [int(v) for k, v in env.items() if k.endswith("_DB_POOL_SIZE")]
        overflow = [int(v) for k, v in env.items() if k.endswith("_DB_MAX_OVERFLOW")]
        if not any(k.endswith("_DATABASE_URL") for k in env):
            continue
        assert pool and overflow, f"{name}: a database but no pool size in its manifest"
        with_db += 1
        replicas = scaled.get(name, dep["spec"].get("replicas", 1))
        surge = -(-replicas // 4)  # the Deployment default maxSurge: 25 %, rounded up
        total += (replicas + surge) * (pool[0] + overflow[0] + (1 if name.endswith("-relay") else 0))
    assert with_db >= 20
    reserved = 3 + 20  # superuser_reserved_connections; CloudNativePG's replication and monitoring
    assert total <= max_connections - reserved, f"{total} connections at peak, {max_connections} in the cluster"


def _env_names(settings_cls) -> set[str]:
    prefix = settings_cls.model_config.get("env_prefix", "")
    names = set()
    for name, field in settings_cls.model_fields.items():
        alias = field.validation_alias
        if alias is not None and hasattr(alias, "choices"):
            names.add(str(alias.choices[0]).upper())
        else:
            names.add(f"{prefix}{name}".upper())
    return names


def test_every_setting_is_set_in_the_manifests_or_documented():
    from fincore.settings import ServiceSettings

    docs = build("overlays/prod")
    config = _by_kind(docs, "ConfigMap")["finance-config"]["data"]
    operations = (ROOT / "docs" / "operations.md").read_text()
    documented = set(re.findall(r"`((?:<SVC>_)?[A-Z][A-Z0-9_]+)`", operations))
    deps = _by_kind(docs, "Deployment")
    for s, c in generate.procfile_processes():
        mod = importlib.import_module(f"{s}.settings")
        cls = next(v for v in vars(mod).values()
                   if isinstance(v, type) and issubclass(v, ServiceSettings) and v is not ServiceSettings)
        ctr = deps[f"{s}-{c}"]["spec"]["template"]["spec"]["containers"][0]
        set_here = set(config) | {e["name"] for e in ctr["env"]}
        prefix = cls.model_config.get("env_prefix", "")
        missing = sorted(n for n in _env_names(cls) if n not in set_here and n not in documented
                         and n.replace(prefix, "<SVC>_", 1) not in documented)
        assert not missing, f"{s}-{c}: settings neither in the manifests nor in docs/operations.md: {missing}"


PROMQL_WORDS = {"by", "without", "and", "or", "unless", "on", "ignoring", "group_left", "group_right", "bool",
                "offset", "le", "inf", "nan"}


def queried_metrics() -> set[str]:
    exprs = []
    for rule_group in yaml.safe_load((K8S / "components" / "monitoring" / "rules.yaml").read_text())["spec"]["groups"]:
        exprs += [r["expr"] for r in rule_group["rules"]]
    dash = json.loads((K8S / "components" / "monitoring" / "dashboards" / "finance.json").read_text())
    exprs += [t["expr"] for p in dash["panels"] for t in p["targets"]]
    names = set()
    for e in exprs:
        e = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\b(by|without|on|ignoring)\s*\([^)]*\)|\"[^\"]*\"", " ", e)
        for m in re.finditer(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?", e):
            if not m.group(2) and m.group(1).lower() not in PROMQL_WORDS:
                names.add(m.group(1))
    return names


def exported_metrics() -> set[str]:
    from fincore import http, metrics  # noqa: F401 - importing registers the metrics
    from fincore.inbox import consumer  # noqa: F401
    from fincore.outbox import relay  # noqa: F401
    from gl.entrypoints import metrics as gl_metrics  # noqa: F401
    from prometheus_client import REGISTRY

    metrics.grpc_metrics_interceptor()
    metrics.dead_letter_sampler(None)
    names = set()
    for fam in REGISTRY.collect():
        names.add(fam.name)
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"], "gauge": [""]}
        names.update(fam.name + s for s in suffixes.get(fam.type, [""]))
    return names


def test_every_metric_a_dashboard_or_alert_queries_is_exported_by_the_code():
    queried, exported = queried_metrics(), exported_metrics()
    assert {"kafka_consumer_lag_messages", "dead_letters_pending", "outbox_oldest_pending_age_seconds",
            "gl_parked_events", "rpc_server_call_duration_seconds_count"} <= queried
    assert queried - exported == set(), f"queried but not exported: {sorted(queried - exported)}"
