"""deploy/: the worker image, the compose file and the Kubernetes manifests are valid and agree
with the code's defaults. They cannot run here, so they are checked with validators from the
package index: check-jsonschema (the Compose Specification schema it ships), kubernetes-validate
(the Kubernetes OpenAPI schemas, strict), yamllint, and dockerfile-parse for the Dockerfile."""

from __future__ import annotations

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


@pytest.mark.parametrize("doc", [d for d in k8s_resources()
                                 if not d["apiVersion"].startswith("keda.sh/")],
                         ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_kubernetes_manifest_is_valid(doc: dict[str, Any]) -> None:
    # the KEDA ScaledObject is a custom resource without a schema here: see the test below
    kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


def test_keda_scaledobject_scales_the_worker_deployment_on_the_queue_list() -> None:
    scaled = resource("ScaledObject", "copydesk-worker")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    deployment = resource("Deployment", scaled["spec"]["scaleTargetRef"]["name"])
    assert deployment["spec"]["template"]["spec"]["containers"][0]["args"][0] == "worker"
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis"
    assert trigger["metadata"]["listName"] == WorkerSettings().queue
    assert int(trigger["metadata"]["listLength"]) > 0
    service = resource("Service", "copydesk-redis")
    port = service["spec"]["ports"][0]["port"]
    assert trigger["metadata"]["address"] == f"{service['metadata']['name']}:{port}"
    assert 1 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]


def test_worker_pods_get_longer_than_the_hard_time_limit_to_stop() -> None:
    spec = resource("Deployment", "copydesk-worker")["spec"]["template"]["spec"]
    assert spec["terminationGracePeriodSeconds"] > WorkerSettings().time_limit


def test_worker_configmap_settings_are_valid_worker_settings() -> None:
    data = resource("ConfigMap", "copydesk-worker")["data"]
    values = {k.removeprefix("COPYDESK_WORKER__").lower(): v for k, v in data.items()
              if k.startswith("COPYDESK_WORKER__")}
    WorkerSettings(**values)  # raises if the limits are out of order


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
