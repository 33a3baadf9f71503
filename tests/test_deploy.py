"""deploy/: the worker image, the compose file and the Kubernetes manifests are valid and agree
with the code's defaults. They cannot run here, so they are checked with validators from the
package index: check-jsonschema (the Compose Specification schema it ships), kubernetes-validate
(the Kubernetes OpenAPI schemas, strict), yamllint, and dockerfile-parse for the Dockerfile."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from copydesk.settings import WorkerSettings
from dockerfile_parse import DockerfileParser
from yamllint import linter
from yamllint.config import YamlLintConfig

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE_FILES = [DEPLOY / "compose.yaml", DEPLOY / "compose.sentinel.yaml"]
YAML_FILES = sorted([*COMPOSE_FILES, *K8S.glob("*.yaml")])
LINT = YamlLintConfig("{extends: default, rules: {line-length: {max: 100}, "
                      "document-start: disable}}")


def k8s_resources() -> list[dict[str, Any]]:
    return [doc for path in sorted(K8S.glob("*.yaml"))
            for doc in yaml.safe_load_all(path.read_text()) if doc]


def resource(kind: str, name: str) -> dict[str, Any]:
    found = [r for r in k8s_resources()
             if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}"
    return found[0]


ROUTES = "COPYDESK_PIPELINE__ROUTES"


def routes_in(env: dict[str, str]) -> dict[str, str]:
    """[pipeline.routes] as the environment gives it: one ROUTES__STAGE variable per stage, or
    ROUTES as a JSON object."""
    routes: dict[str, str] = dict(json.loads(env[ROUTES])) if ROUTES in env else {}
    routes.update({k.removeprefix(f"{ROUTES}__").lower(): v for k, v in env.items()
                   if k.startswith(f"{ROUTES}__")})
    return routes


def queues_served(args: list[str], env: dict[str, str]) -> set[str]:
    """The queues a `copydesk worker` command line serves: --queues (a comma list, or
    worker.queues), else the default queue worker.queue."""
    if "--queues" in args:
        value = args[args.index("--queues") + 1]
    else:
        value = env.get("COPYDESK_WORKER__QUEUES", "")
    names = {q.strip() for q in value.split(",") if q.strip()}
    return names or {env.get("COPYDESK_WORKER__QUEUE", WorkerSettings().queue)}


def compose_workers(path: Path) -> dict[str, dict[str, Any]]:
    services = yaml.safe_load(path.read_text())["services"]
    return {name: s for name, s in services.items() if s.get("command", [""])[0] == "worker"}


def worker_deployments() -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in k8s_resources()
            if r["kind"] == "Deployment"
            and r["spec"]["template"]["spec"]["containers"][0]["args"][0] == "worker"}


def container_env(deployment: dict[str, Any]) -> dict[str, str]:
    """What a Deployment's worker container sees: its ConfigMaps (envFrom), then its own env
    values (a secret reference counts as set, its value unknown here)."""
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(resource("ConfigMap", source["configMapRef"]["name"])["data"])
    for var in container.get("env", []):
        env[var["name"]] = var.get("value", "<from a reference>")
    return env


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.name)
def test_yaml_files_pass_yamllint(path: Path) -> None:
    problems = list(linter.run(path.read_text(), LINT, str(path)))
    assert not problems, [str(p) for p in problems]


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_file_is_valid_against_the_compose_specification(path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_compose_has_persistent_redis_and_scalable_workers() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    redis = compose["services"]["redis"]
    assert "--appendonly" in redis["command"] and "noeviction" in redis["command"]
    assert any(v.endswith(":/data") for v in redis["volumes"])
    worker = compose["services"]["worker"]
    assert "container_name" not in worker  # a fixed name would break --scale
    assert worker["command"][0] == "worker"
    grace = int(worker["stop_grace_period"].rstrip("s"))
    assert grace > WorkerSettings().time_limit


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_every_compose_worker_pool_gets_the_same_routes_and_every_queue_a_pool(
        path: Path) -> None:
    workers = compose_workers(path)
    routes = [routes_in(w["environment"]) for w in workers.values()]
    assert all(r == routes[0] for r in routes), routes
    served = set().union(*(queues_served(w["command"], w["environment"])
                           for w in workers.values()))
    assert served == {WorkerSettings().queue, *routes[0].values()}


def test_compose_runs_a_default_pool_and_a_heavy_pool_with_summary_routed_to_it() -> None:
    workers = compose_workers(DEPLOY / "compose.yaml")
    assert set(workers) == {"worker", "worker-heavy"}
    heavy = workers["worker-heavy"]
    assert heavy["command"][:3] == ["worker", "--queues", "heavy"]
    assert "container_name" not in heavy  # scaled on its own: --scale worker-heavy=N
    assert routes_in(heavy["environment"]) == {"summary": "heavy"}
    assert queues_served(workers["worker"]["command"], workers["worker"]["environment"]) == {
        WorkerSettings().queue}
    grace = int(heavy["stop_grace_period"].rstrip("s"))
    assert grace > WorkerSettings().time_limit
    memory = {name: w["deploy"]["resources"]["limits"]["memory"] for name, w in workers.items()}
    assert int(memory["worker-heavy"].rstrip("g")) > int(memory["worker"].rstrip("g"))


@pytest.mark.parametrize("doc", [d for d in k8s_resources()
                                 if not d["apiVersion"].startswith("keda.sh/")],
                         ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_kubernetes_manifest_is_valid(doc: dict[str, Any]) -> None:
    # the KEDA ScaledObject is a custom resource without a schema here: see the test below
    kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


@pytest.mark.parametrize("name", ["copydesk-worker", "copydesk-worker-heavy"])
def test_each_worker_pool_has_a_scaledobject_on_its_own_queue_list(name: str) -> None:
    (scaled,) = [r for r in k8s_resources() if r["kind"] == "ScaledObject"
                 and r["spec"]["scaleTargetRef"]["name"] == name]
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    deployment = resource("Deployment", name)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis"
    # kombu's Redis transport keeps a queue in the Redis list named by the queue
    assert {trigger["metadata"]["listName"]} == queues_served(container["args"],
                                                              container_env(deployment))
    assert int(trigger["metadata"]["listLength"]) > 0
    service = resource("Service", "copydesk-redis")
    port = service["spec"]["ports"][0]["port"]
    assert trigger["metadata"]["address"] == f"{service['metadata']['name']}:{port}"
    assert 0 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]


def test_the_default_pool_scales_on_the_default_queue_and_never_to_zero() -> None:
    scaled = resource("ScaledObject", "copydesk-worker")
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["metadata"]["listName"] == WorkerSettings().queue
    assert scaled["spec"]["minReplicaCount"] >= 1


def test_every_worker_deployment_is_scaled_by_exactly_one_scaledobject() -> None:
    targets = [r["spec"]["scaleTargetRef"]["name"] for r in k8s_resources()
               if r["kind"] == "ScaledObject"]
    assert sorted(targets) == sorted(worker_deployments())


def test_keda_reads_the_redis_password_from_the_workers_secret() -> None:
    secret = resource("Secret", "copydesk-redis-url")
    for scaled in (r for r in k8s_resources() if r["kind"] == "ScaledObject"):
        (trigger,) = scaled["spec"]["triggers"]
        auth = resource("TriggerAuthentication", trigger["authenticationRef"]["name"])
        (ref,) = auth["spec"]["secretTargetRef"]
        assert ref["parameter"] == "password"
        assert ref["name"] == secret["metadata"]["name"]
        assert ref["key"] in secret["stringData"]


def test_the_heavy_deployment_serves_only_the_heavy_queue() -> None:
    deployment = resource("Deployment", "copydesk-worker-heavy")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    assert args[0] == "worker" and args[args.index("--queues") + 1] == "heavy"
    assert queues_served(args, container_env(deployment)) == {"heavy"}


def test_both_worker_deployments_get_the_same_routes_with_summary_on_heavy() -> None:
    routes = {name: routes_in(container_env(d)) for name, d in worker_deployments().items()}
    assert set(routes) == {"copydesk-worker", "copydesk-worker-heavy"}
    assert all(r == {"summary": "heavy"} for r in routes.values()), routes


def test_every_routed_queue_and_the_default_queue_have_a_kubernetes_pool() -> None:
    served: set[str] = set()
    routes: dict[str, str] = {}
    for deployment in worker_deployments().values():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = container_env(deployment)
        served |= queues_served(container["args"], env)
        routes = routes_in(env)
    assert served == {WorkerSettings().queue, *routes.values()}


def test_the_heavy_pool_has_its_own_resources_with_more_memory() -> None:
    def resources(name: str) -> dict[str, Any]:
        spec = resource("Deployment", name)["spec"]["template"]["spec"]
        return dict(spec["containers"][0]["resources"])

    heavy, default = resources("copydesk-worker-heavy"), resources("copydesk-worker")
    assert {"cpu", "memory"} <= set(heavy["requests"]) and "memory" in heavy["limits"]
    assert (memory_bytes(heavy["limits"]["memory"])
            > memory_bytes(default["limits"]["memory"]))


def memory_bytes(value: str) -> int:
    """A memory quantity (Mi, Gi) in bytes."""
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for suffix, factor in units.items():
        if value.endswith(suffix):
            return int(value.removesuffix(suffix)) * factor
    return int(value)


@pytest.mark.parametrize("name", ["copydesk-worker", "copydesk-worker-heavy"])
def test_worker_pods_get_longer_than_the_hard_time_limit_to_stop(name: str) -> None:
    spec = resource("Deployment", name)["spec"]["template"]["spec"]
    assert spec["terminationGracePeriodSeconds"] > WorkerSettings().time_limit


def test_worker_configmap_settings_are_valid_worker_settings() -> None:
    data = resource("ConfigMap", "copydesk-worker")["data"]
    values = {k.removeprefix("COPYDESK_WORKER__").lower(): v for k, v in data.items()
              if k.startswith("COPYDESK_WORKER__")}
    WorkerSettings(**values)  # raises if the limits are out of order


def test_the_routes_of_the_configmap_read_as_settings_and_fit_the_default_pipeline(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from copydesk import Pipeline
    from copydesk.settings import Settings
    from copydesk.workers.worker.routing import check_worker_queues, segments

    data = resource("ConfigMap", "copydesk-worker")["data"]
    for key, value in data.items():
        if key.startswith(ROUTES):
            monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.pipeline.routes == {"summary": "heavy"}
    segs = segments(Pipeline.build(settings), settings)
    check_worker_queues(segs, ["heavy"])  # the heavy pool has a stage to run
    assert segs[-1].stages == ("summary",)


def test_dockerfile_installs_the_package_with_its_model_and_runs_a_worker_as_non_root() -> None:
    parser = DockerfileParser(path=str(DEPLOY / "Dockerfile"))
    instructions = parser.structure
    runs = " ".join(i["value"] for i in instructions if i["instruction"] == "RUN")
    assert "pip install ." in runs and "load_model(" in runs
    assert "copydesk plugins --check" in runs  # an image with a broken plugin does not build
    final_stage = instructions[max(i for i, ins in enumerate(instructions)
                                   if ins["instruction"] == "FROM"):]
    users = [i["value"] for i in final_stage if i["instruction"] == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(i["instruction"] == "ENTRYPOINT" and "copydesk" in i["value"]
               for i in final_stage)
    assert any(i["instruction"] == "CMD" and "worker" in i["value"] for i in final_stage)
    assert parser.baseimage.startswith("python:3.1")


def test_the_sentinel_compose_file_points_every_copydesk_service_at_the_sentinels() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.sentinel.yaml").read_text())
    services = compose["services"]
    sentinels = {name for name in services if name.startswith("sentinel-")}
    assert len(sentinels) == 3
    assert "--replicaof" in services["redis-replica"]["command"]
    for name in ("worker", "gateway"):
        env = services[name]["environment"]
        hosts = {h.split(":")[0] for h in env["COPYDESK_SENTINEL__HOSTS"].split(",")}
        assert hosts == sentinels
        assert env["COPYDESK_SENTINEL__WAIT_REPLICAS"] == "1"
    from copydesk.settings import Settings

    env = services["worker"]["environment"]
    settings = Settings(sentinel={"hosts": env["COPYDESK_SENTINEL__HOSTS"],
                                  "master": env["COPYDESK_SENTINEL__MASTER"]})
    assert len(settings.sentinel.hosts) == 3


SINK_URL = "COPYDESK_SINKS__POSTGRES__URL"


def test_compose_keeps_the_archive_in_a_persistent_postgres_that_the_sink_waits_for() -> None:
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    postgres = services["postgres"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "pg_isready" in postgres["healthcheck"]["test"]
    sink = services["sink-postgres"]
    assert sink["command"] == ["sink", "postgres"]
    assert sink["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "container_name" not in sink  # consumers scale: --scale sink-postgres=N


def test_compose_workers_and_the_sink_share_one_archive_url_that_reaches_the_postgres_service(
        ) -> None:
    from urllib.parse import urlsplit

    from copydesk.plugins.sinks.postgres import PostgresConfig

    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    users = [s for s in services.values() if s.get("command", [""])[0] in ("worker", "sink")]
    urls = {s["environment"][SINK_URL] for s in users}
    assert len(users) == 3 and len(urls) == 1
    url = urlsplit(urls.pop())
    env = services["postgres"]["environment"]
    assert (url.hostname, url.port) == ("postgres", 5432)
    assert (url.username, url.password, url.path) == (
        env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], "/" + env["POSTGRES_DB"])
    PostgresConfig(url=url.geturl())


def test_kubernetes_runs_a_sink_deployment_and_every_writer_of_the_outbox_knows_the_archive(
        ) -> None:
    sink = resource("Deployment", "copydesk-sink-postgres")
    (container,) = sink["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["sink", "postgres"]
    for deployment in [sink, *worker_deployments().values()]:
        (c,) = deployment["spec"]["template"]["spec"]["containers"]
        (ref,) = [v["valueFrom"]["secretKeyRef"] for v in c["env"] if v["name"] == SINK_URL]
        assert ref == {"name": "copydesk-postgres", "key": "url"}


def test_the_kubernetes_archive_url_names_the_postgres_service_and_its_password() -> None:
    from urllib.parse import urlsplit

    secret = resource("Secret", "copydesk-postgres")["stringData"]
    url = urlsplit(secret["url"])
    service = resource("Service", "copydesk-postgres")
    assert (url.hostname, url.port) == (service["metadata"]["name"],
                                        service["spec"]["ports"][0]["port"])
    assert url.password == secret["password"]
    stateful = resource("StatefulSet", "copydesk-postgres")
    (container,) = stateful["spec"]["template"]["spec"]["containers"]
    env = {v["name"]: v for v in container["env"]}
    assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "copydesk-postgres"
    assert url.username == env["POSTGRES_USER"]["value"]
    assert stateful["spec"]["volumeClaimTemplates"]
