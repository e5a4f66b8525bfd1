"""The deployment files (deploy/, issue 14, item 5) checked against the servers they run, without Docker or a cluster.

Docker cannot run here, so the images are never built in the tests; what can be checked cheaply is checked:
every image pinned (no ``latest``, the Rasa and rasa-sdk versions those of requirements/), every variable the
servers need provided to the container that runs them, every secret from deploy/secrets.env (compose) or the
Secret support-secrets (Kubernetes) and never inline, probes and resources on every long-running container, and
the ports and names agreeing between nginx's configuration, the Services, the compose services and the processes.
The two entrypoint scripts run for real (``sh``) with a stand-in for ``rasa`` and ``python``.

Each check is a function that returns the problems it finds; the tests at the end feed them broken copies of the
real files to show that they find what they are meant to find.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

import botstack
from tests.replica.replica_cluster import listen_on, nginx_binary, upstreams_conf

ROOT = botstack.ROOT
DEPLOY = ROOT / "deploy"
NGINX = DEPLOY / "nginx"
K8S = DEPLOY / "k8s"
DOCKER = DEPLOY / "docker"

#: what a value holds that must come from a Secret or a git-ignored env file, never from a committed manifest
SECRETS = set(botstack.SECRET_NAMES) | {
    "DATABASE_URL",
    "TRACKER_STORE_URL",
    "POSTGRES_PASSWORD",
    "SMTP_PASSWORD",
    "HANDOFF_RELAY_TOKEN",
}
PLACEHOLDER = "CHANGE-ME"
#: the port each kind of process listens on (the images' EXPOSE, the entrypoints' defaults; checked below)
PORTS = {"rasa": 5005, "actions": 5055, "web": 8080, "redis": 6379, "postgres": 5432, "inbox": 8090}
#: which upstream of deploy/nginx/*.conf leads to which kind of process
UPSTREAM_ROLE = {
    "rasa_sticky": "rasa",
    "rasa_rest": "rasa",
    "action_servers": "actions",
    "chat_page": "web",
    "agent_inbox": "inbox",
}
#: where every process that touches uploaded files finds them: one shared volume (issue 17, item 4)
UPLOAD_DIR = "/var/lib/support/uploads"
UPLOAD_ROLES = ("rasa", "actions", "inbox")


def endpoint_variables() -> set[str]:
    """The variables endpoints.yml expands (Rasa has no defaults for them: an unset one stops it)."""
    lines = (ROOT / "endpoints.yml").read_text().splitlines()
    return set(re.findall(r"\$\{([A-Z0-9_]+)\}", "\n".join(line.split("#", 1)[0] for line in lines)))


#: what each kind of process reads, and must therefore be given
NEEDS = {
    "rasa": endpoint_variables()
    | set(botstack.SECRET_NAMES)
    | {"CHAT_ALLOWED_ORIGINS", "RATE_LIMIT_STORAGE", "TRUST_PROXY", "SANIC_REQUEST_MAX_SIZE", "TICKET_LOCK_LIFETIME"}
    | {"HANDOFF_RELAY_TOKEN", "HANDOFF_RELAY_ALLOW_REMOTE", "SOCKETIO_MESSAGE_QUEUE", "UPLOAD_DIR"},
    "actions": {"ACTION_SERVER_TOKEN", "DATABASE_URL", "SANIC_HOST", "UPLOAD_DIR"},
    # the agent inbox (python -m policy_engine inbox, in the actions image): docs/handoff.md
    "inbox": {
        "DATABASE_URL",
        "HANDOFF_RELAY_TOKEN",
        "RASA_API_TOKEN",
        "RASA_INTERNAL_URL",
        "RATE_LIMIT_STORAGE",
        "TRUST_PROXY",
        "INBOX_SECURE_COOKIES",
        "UPLOAD_DIR",
    },
    "migrate": {"DATABASE_URL"},
    "postgres": {"POSTGRES_PASSWORD", "POSTGRES_USER", "POSTGRES_DB"},
    "web": set(),
    "nginx": set(),
    "redis": set(),
}
#: values that must be exactly these wherever Rasa runs as several replicas
RASA_VALUES = {"LOCK_STORE_TYPE": "redis", "TRUST_PROXY": "1"}


# ---- loading ----------------------------------------------------------------------------------------------------


def load_compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def load_k8s() -> list[dict[str, Any]]:
    """Every object of deploy/k8s/*.yaml (kustomization.yaml is kubectl's list of them, not an object)."""
    return [
        doc
        for path in sorted(K8S.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc.get("kind") != "Kustomization"
    ]


def env_file_keys(name: str) -> set[str]:
    """The variables of a git-ignored env file, from its committed template (``<name>.example``)."""
    example = DEPLOY / f"{name}.example"
    return {
        line.split("=", 1)[0].strip()
        for line in example.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }


def env_file_values(name: str) -> dict[str, str]:
    example = DEPLOY / f"{name}.example"
    return dict(
        line.split("=", 1)
        for line in example.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    )


def image_name(image: str) -> str:
    return image.split("@", 1)[0].rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image


def role_of_image(image: str, command: Any = None) -> str:
    name = image_name(image).rsplit("/", 1)[-1]
    if name == "actions" and command and "migrate" in command:
        return "migrate"
    if name == "actions" and command and "inbox" in command:
        return "inbox"
    return name


# ---- nginx ------------------------------------------------------------------------------------------------------


def upstream_blocks(conf: str) -> dict[str, str]:
    return dict(re.findall(r"upstream\s+(\w+)\s*\{(.*?)\}", conf, flags=re.DOTALL))


def upstream_servers(body: str) -> list[tuple[str, int]]:
    return [(host, int(port)) for host, port in re.findall(r"^\s*server\s+([\w.-]+):(\d+)", body, re.MULTILINE)]


def listens(conf: str) -> list[int]:
    return [int(port) for port in re.findall(r"^\s*listen\s+(?:[\d.]+:)?(\d+)\b", conf, flags=re.MULTILINE)]


def location(conf: str, prefix: str) -> str:
    match = re.search(rf"location\s+{re.escape(prefix)}\s*\{{(.*?)\n    \}}", conf, flags=re.DOTALL)
    assert match, f"no location {prefix}"
    return match.group(1)


def nginx_problems(upstreams: str, served: list[str], where: str) -> list[str]:
    """The upstreams of one environment against the configuration files that use them."""
    problems = []
    blocks = upstream_blocks(upstreams)
    for conf in served:
        for name in re.findall(r"proxy_pass\s+http://(\w+)", conf):
            if name not in blocks:
                problems.append(f"{where}: upstream {name} is used but not defined")
    sticky = blocks.get("rasa_sticky", "")
    if not re.search(r"^\s*hash \$arg_token consistent;", sticky, re.MULTILINE):
        problems.append(f"{where}: rasa_sticky must hash the session token (`hash $arg_token consistent`)")
    if re.search(r"^\s*(hash|ip_hash|least_conn|random)\b", blocks.get("rasa_rest", ""), re.MULTILINE):
        problems.append(f"{where}: rasa_rest must be round robin")
    return problems


# ---- checks -----------------------------------------------------------------------------------------------------


def unpinned(images: list[tuple[str, str]]) -> list[str]:
    """Each image must name a version: a tag other than latest, or a digest."""
    problems = []
    for where, image in images:
        if "@sha256:" in image:
            continue
        last = image.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else ""
        if not tag or tag == "latest" or not re.search(r"\d", tag):
            problems.append(f"{where}: image {image!r} is not pinned to a version")
    return problems


def compose_images(compose: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f"compose {name}", service.get("image", "")) for name, service in compose["services"].items()]


def k8s_pod_specs(objects: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(object, pod template spec) of every workload."""
    return [
        (obj, obj["spec"]["template"]["spec"]) for obj in objects if obj["kind"] in ("Deployment", "StatefulSet", "Job")
    ]


def k8s_images(objects: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (f"k8s {obj['metadata']['name']}/{c['name']}", c.get("image", ""))
        for obj, spec in k8s_pod_specs(objects)
        for c in spec.get("containers", []) + spec.get("initContainers", [])
    ]


def dockerfile_images() -> list[tuple[str, str]]:
    found = []
    for path in sorted(DOCKER.glob("*.Dockerfile")):
        stages = set()
        for line in path.read_text().splitlines():
            match = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, flags=re.IGNORECASE)
            if match:
                if match.group(1) not in stages:
                    found.append((path.name, match.group(1)))
                if match.group(2):
                    stages.add(match.group(2))
    return found


def compose_problems(compose: dict[str, Any]) -> list[str]:
    """Variables, secrets, health checks and resources of every compose service."""
    problems = []
    ignored = (DEPLOY / ".gitignore").read_text().split()
    for name, service in compose["services"].items():
        role = role_of_image(service.get("image", ""), service.get("command"))
        environment = service.get("environment") or {}
        provided = set(environment)
        for env_file in service.get("env_file") or []:
            if env_file not in ignored:
                problems.append(f"compose {name}: env_file {env_file} is not git-ignored (deploy/.gitignore)")
            provided |= env_file_keys(env_file)
        for missing in sorted(NEEDS.get(role, set()) - provided):
            problems.append(f"compose {name}: {missing} is not provided")
        for secret in sorted(SECRETS & set(environment)):
            problems.append(f"compose {name}: the secret {secret} is written inline (it belongs in an env_file)")
        if role == "rasa":
            for key, value in RASA_VALUES.items():
                if str(environment.get(key)) != value:
                    problems.append(f"compose {name}: {key} must be {value!r}")
            if not str(environment.get("RATE_LIMIT_STORAGE", "")).startswith("redis://"):
                problems.append(f"compose {name}: RATE_LIMIT_STORAGE must be shared (redis://)")
        if service.get("restart") != "no":
            if "healthcheck" not in service:
                problems.append(f"compose {name}: no healthcheck")
            if not (((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}).get("memory"):
                problems.append(f"compose {name}: no memory limit")
    return problems


def compose_port_problems(compose: dict[str, Any], support: str, actions: str, upstreams: str) -> list[str]:
    problems = []
    services = compose["services"]
    roles = {name: role_of_image(s.get("image", ""), s.get("command")) for name, s in services.items()}
    nginx = next(name for name, role in roles.items() if role == "nginx")
    published = [int(str(p).rsplit(":", 1)[-1]) for p in services[nginx].get("ports", [])]
    served = listens(support) + listens((NGINX / "inbox.conf").read_text())
    if published != served:
        problems.append(f"compose {nginx}: publishes {published}, support.conf and inbox.conf listen on {served}")
    for name, role in roles.items():
        environment = services[name].get("environment") or {}
        if role == "rasa":
            action = urlsplit(str(environment.get("ACTION_ENDPOINT_URL", "")))
            if action.hostname != nginx or [action.port] != listens(actions) or action.path != "/webhook":
                problems.append(
                    f"compose {name}: ACTION_ENDPOINT_URL {action.geturl()} is not nginx's actions.conf "
                    f"(http://{nginx}:{listens(actions)}/webhook)"
                )
            redis_host, redis_port = environment.get("LOCK_STORE_HOST"), environment.get("LOCK_STORE_PORT")
            if roles.get(str(redis_host)) != "redis" or int(redis_port or 0) != PORTS["redis"]:
                problems.append(f"compose {name}: the lock store {redis_host}:{redis_port} is not the redis service")
            limits = urlsplit(str(environment.get("RATE_LIMIT_STORAGE", "")))
            if roles.get(str(limits.hostname)) != "redis" or limits.port != PORTS["redis"]:
                problems.append(f"compose {name}: RATE_LIMIT_STORAGE is not the redis service")
        if role == "inbox":
            for key, target in (("RASA_INTERNAL_URL", "rasa"), ("RATE_LIMIT_STORAGE", "redis")):
                url = urlsplit(str(environment.get(key, "")))
                if roles.get(str(url.hostname)) != target or url.port != PORTS[target]:
                    problems.append(f"compose {name}: {key} is not the {target} service")
    for upstream, body in upstream_blocks(upstreams).items():
        for host, port in upstream_servers(body):
            if roles.get(host) != UPSTREAM_ROLE.get(upstream) or port != PORTS[UPSTREAM_ROLE[upstream]]:
                problems.append(
                    f"compose upstream {upstream}: {host}:{port} is not a {UPSTREAM_ROLE.get(upstream)} "
                    f"service on port {PORTS.get(UPSTREAM_ROLE.get(upstream, ''))}"
                )
    for key in ("DATABASE_URL", "TRACKER_STORE_URL"):
        url = urlsplit(env_file_values("secrets.env")[key])
        if roles.get(str(url.hostname)) != "postgres" or url.port != PORTS["postgres"]:
            problems.append(f"secrets.env.example: {key} does not name the postgres service")
    return problems


def container_env(container: dict[str, Any], objects: list[dict[str, Any]]) -> dict[str, Any]:
    """Every variable a container gets, with its source: the env entry, or ("configMap"|"secret", name)."""
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    found: dict[str, Any] = {}
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            data = by_name.get(("ConfigMap", source["configMapRef"]["name"]), {}).get("data") or {}
            found.update({key: ("configMap", value) for key, value in data.items()})
        if "secretRef" in source:
            secret = by_name.get(("Secret", source["secretRef"]["name"]), {})
            found.update({key: ("secret", None) for key in (secret.get("stringData") or secret.get("data") or {})})
    for entry in container.get("env") or []:
        found[entry["name"]] = entry
    return found


def k8s_problems(objects: list[dict[str, Any]]) -> list[str]:
    """Variables, secrets, probes and resources of every workload."""
    problems = []
    secrets = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Secret"}
    for obj in objects:
        if obj["kind"] == "ConfigMap":
            for key in sorted(SECRETS & set(obj.get("data") or {})):
                problems.append(f"k8s ConfigMap {obj['metadata']['name']}: the secret {key} is not in a Secret")
        if obj["kind"] == "Secret":
            for key, value in (obj.get("stringData") or obj.get("data") or {}).items():
                if PLACEHOLDER not in str(value):
                    problems.append(f"k8s Secret {obj['metadata']['name']}: {key} is not a placeholder")
    for obj, spec in k8s_pod_specs(objects):
        for container in spec.get("containers", []):
            where = f"k8s {obj['kind']} {obj['metadata']['name']}/{container['name']}"
            role = role_of_image(container.get("image", ""), container.get("args"))
            env = container_env(container, objects)
            for missing in sorted(NEEDS.get(role, set()) - set(env)):
                problems.append(f"{where}: {missing} is not provided")
            for name, entry in env.items():
                if name not in SECRETS:
                    continue
                if isinstance(entry, tuple):  # envFrom: a Secret is fine, a ConfigMap is not
                    if entry[0] == "configMap":
                        problems.append(f"{where}: the secret {name} comes from a ConfigMap")
                    continue
                ref = (entry.get("valueFrom") or {}).get("secretKeyRef") or {}
                secret = secrets.get(ref.get("name", ""))
                if "value" in entry or secret is None or ref.get("key") not in (secret.get("stringData") or {}):
                    problems.append(f"{where}: the secret {name} is not taken from the Secret support-secrets")
            if role == "rasa":
                for key, value in RASA_VALUES.items():
                    got = env.get(key)
                    got = got[1] if isinstance(got, tuple) else (got or {}).get("value")
                    if str(got) != value:
                        problems.append(f"{where}: {key} must be {value!r}")
            resources = container.get("resources") or {}
            requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
            if not (requests.get("cpu") and requests.get("memory") and limits.get("memory")):
                problems.append(f"{where}: resource requests (cpu, memory) and a memory limit are required")
            if obj["kind"] != "Job":
                for probe in ("readinessProbe", "livenessProbe"):
                    if probe not in container:
                        problems.append(f"{where}: no {probe}")
                ports = {p.get("name") for p in container.get("ports", [])} | {
                    p["containerPort"] for p in container.get("ports", [])
                }
                for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                    action = (container.get(probe) or {}).get("httpGet") or (container.get(probe) or {}).get(
                        "tcpSocket"
                    )
                    if action and action.get("port") not in ports:
                        problems.append(f"{where}: {probe} checks port {action.get('port')}, not a container port")
    return problems


def k8s_port_problems(objects: list[dict[str, Any]], support: str, upstreams: str) -> list[str]:
    """Services against the pods they select, the URLs and upstreams against the Services."""
    problems = []
    pods = {}
    for obj, spec in k8s_pod_specs(objects):
        if obj["kind"] != "Job":
            pods[obj["metadata"]["name"]] = (obj["spec"]["template"]["metadata"]["labels"], spec["containers"])
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}

    def targets(service_name: str, port: int) -> tuple[str, int] | None:
        """(role, container port) that Service ``service_name``'s ``port`` reaches, or None."""
        service = services.get(service_name)
        if service is None:
            return None
        selector = service["spec"].get("selector") or {}
        for service_port in service["spec"]["ports"]:
            if service_port["port"] != port:
                continue
            for labels, containers in pods.values():
                if selector and all(labels.get(k) == v for k, v in selector.items()):
                    for container in containers:
                        for p in container.get("ports", []):
                            if service_port.get("targetPort", port) in (p.get("name"), p["containerPort"]):
                                return role_of_image(container["image"], container.get("args")), p["containerPort"]
        return None

    for name, service in services.items():
        for port in service["spec"]["ports"]:
            if targets(name, port["port"]) is None:
                problems.append(f"k8s Service {name}: port {port['port']} reaches no container port of its pods")
    for name, (_, containers) in pods.items():
        for container in containers:
            role = role_of_image(container["image"], container.get("args"))
            declared = [p["containerPort"] for p in container.get("ports", [])]
            if role in PORTS and declared != [PORTS[role]]:
                problems.append(f"k8s {name}: {role} listens on {PORTS[role]}, the container declares {declared}")
            served = listens(support) + listens((NGINX / "inbox.conf").read_text())
            if role == "nginx" and declared != served:
                problems.append(f"k8s {name}: support.conf and inbox.conf listen on {served}, container: {declared}")
    config = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "support-config")
    data = config["data"]
    action = urlsplit(data["ACTION_ENDPOINT_URL"])
    if targets(str(action.hostname), action.port or 80) != ("actions", PORTS["actions"]):
        problems.append(f"k8s: ACTION_ENDPOINT_URL {action.geturl()} does not reach the action servers")
    for _, containers in pods.values():
        for container in containers:
            if role_of_image(container["image"], container.get("args")) == "inbox":
                env = {e["name"]: e.get("value") for e in container.get("env") or []}
                for key, target in (("RASA_INTERNAL_URL", "rasa"), ("RATE_LIMIT_STORAGE", "redis")):
                    url = urlsplit(str(env.get(key) or data.get(key) or ""))
                    if targets(str(url.hostname), url.port or 0) != (target, PORTS[target]):
                        problems.append(f"k8s inbox: {key} does not reach {target}")
    if targets(data["LOCK_STORE_HOST"], int(data["LOCK_STORE_PORT"])) != ("redis", PORTS["redis"]):
        problems.append("k8s: LOCK_STORE_HOST/PORT do not reach redis")
    limits = urlsplit(data["RATE_LIMIT_STORAGE"])
    if targets(str(limits.hostname), limits.port or 0) != ("redis", PORTS["redis"]):
        problems.append("k8s: RATE_LIMIT_STORAGE does not reach redis")
    for key in ("DATABASE_URL", "TRACKER_STORE_URL"):
        url = urlsplit(env_file_values("secrets.env")[key])
        if targets(str(url.hostname), url.port or 0) != ("postgres", PORTS["postgres"]):
            problems.append(f"k8s: {key} (deploy/secrets.env) does not reach postgres")
    for upstream, body in upstream_blocks(upstreams).items():
        for host, port in upstream_servers(body):
            service = host.split(".", 1)[0]
            if not host.endswith(".support.svc.cluster.local") or targets(service, port) != (
                UPSTREAM_ROLE.get(upstream),
                PORTS.get(UPSTREAM_ROLE.get(upstream, "")),
            ):
                problems.append(
                    f"k8s upstream {upstream}: {host}:{port} is not a {UPSTREAM_ROLE.get(upstream)} Service"
                )
            elif upstream.startswith("rasa") and services[service]["spec"].get("clusterIP") != "None":
                problems.append(f"k8s upstream {upstream}: {service} must be headless (nginx hashes over the pods)")
    return problems


def k8s_nginx(objects: list[dict[str, Any]]) -> dict[str, str]:
    return next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "nginx-config")["data"]


def compose_upload_problems(compose: dict[str, Any]) -> list[str]:
    """UPLOAD_DIR is one named volume, mounted at UPLOAD_DIR in every Rasa, action server and inbox service."""
    problems = []
    named = set((compose.get("volumes") or {}).keys())
    for name, service in compose["services"].items():
        role = role_of_image(service.get("image", ""), service.get("command"))
        if role not in UPLOAD_ROLES:
            continue
        if (service.get("environment") or {}).get("UPLOAD_DIR") != UPLOAD_DIR:
            problems.append(f"compose {name}: UPLOAD_DIR must be {UPLOAD_DIR}")
        mounts = [str(v) for v in service.get("volumes") or []]
        if not any(m.split(":")[0] in named and m.split(":")[1] == UPLOAD_DIR for m in mounts if ":" in m):
            problems.append(f"compose {name}: no shared named volume at {UPLOAD_DIR}")
    return problems


def k8s_upload_problems(objects: list[dict[str, Any]]) -> list[str]:
    """The same on Kubernetes: a ReadWriteMany claim mounted at UPLOAD_DIR (support-config) in the same pods."""
    problems = []
    config = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "support-config")
    if config["data"].get("UPLOAD_DIR") != UPLOAD_DIR:
        problems.append(f"k8s support-config: UPLOAD_DIR must be {UPLOAD_DIR}")
    claims = {o["metadata"]["name"]: o for o in objects if o["kind"] == "PersistentVolumeClaim"}
    for obj, spec in k8s_pod_specs(objects):
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        for container in spec.get("containers", []):
            if role_of_image(container.get("image", ""), container.get("args")) not in UPLOAD_ROLES:
                continue
            mounted = [
                m
                for m in container.get("volumeMounts") or []
                if m["mountPath"] == UPLOAD_DIR
                and ((volumes.get(m["name"]) or {}).get("persistentVolumeClaim") or {}).get("claimName") in claims
            ]
            if not mounted:
                problems.append(f"k8s {obj['metadata']['name']}: no shared claim mounted at {UPLOAD_DIR}")
            for m in mounted:
                claim = claims[volumes[m["name"]]["persistentVolumeClaim"]["claimName"]]
                if "ReadWriteMany" not in claim["spec"].get("accessModes", []):
                    problems.append(f"k8s claim {claim['metadata']['name']}: must be ReadWriteMany")
    return problems


# ---- the tests --------------------------------------------------------------------------------------------------


def test_every_image_is_pinned_and_the_bases_are_the_projects_versions():
    compose, objects = load_compose(), load_k8s()
    assert unpinned(compose_images(compose) + k8s_images(objects) + dockerfile_images()) == []
    rasa = re.search(r"^rasa==([\d.]+)$", (ROOT / "requirements" / "rasa.txt").read_text(), re.MULTILINE).group(1)
    sdk = re.search(r"^rasa-sdk==([\d.]+)$", (ROOT / "requirements" / "engine.txt").read_text(), re.MULTILINE).group(1)
    bases = dict((where, image) for where, image in dockerfile_images())
    assert bases["rasa.Dockerfile"] == f"rasa/rasa:{rasa}"
    assert bases["actions.Dockerfile"] == f"rasa/rasa-sdk:{sdk}"
    # the project's own images: the same version in compose and on Kubernetes
    ours = {image_name(i): i.rsplit(":", 1)[1] for _, i in compose_images(compose) if i.startswith("support/")}
    for _, image in k8s_images(objects):
        if "/support/" in image:
            assert ours["support/" + image_name(image).rsplit("/", 1)[1]] == image.rsplit(":", 1)[1], image


def test_compose_gives_every_server_what_it_reads_and_no_secret_inline():
    assert compose_problems(load_compose()) == []


def test_kubernetes_gives_every_server_what_it_reads_with_secrets_probes_and_resources():
    assert k8s_problems(load_k8s()) == []


def test_ports_and_names_agree_between_nginx_services_and_processes():
    support, actions = (NGINX / "support.conf").read_text(), (NGINX / "actions.conf").read_text()
    compose_upstreams = (NGINX / "upstreams.compose.conf").read_text()
    objects = load_k8s()
    assert compose_port_problems(load_compose(), support, actions, compose_upstreams) == []
    assert k8s_port_problems(objects, support, k8s_nginx(objects)["upstreams.conf"]) == []
    # the images: EXPOSE and the entrypoints' defaults are the ports above
    for dockerfile, role in (("rasa.Dockerfile", "rasa"), ("actions.Dockerfile", "actions"), ("web.Dockerfile", "web")):
        assert f"EXPOSE {PORTS[role]}" in (DOCKER / dockerfile).read_text(), dockerfile
    assert '"${RASA_PORT:-5005}"' in (DOCKER / "rasa-entrypoint.sh").read_text()
    assert '"${ACTION_PORT:-5055}"' in (DOCKER / "actions-entrypoint.sh").read_text()
    assert listens((DEPLOY / "web" / "nginx.conf").read_text()) == [PORTS["web"]]
    assert listens(actions) == [PORTS["actions"]]


def test_every_environment_defines_the_upstreams_nginx_uses_sticky_for_socketio_and_round_robin_for_rest():
    support, actions = (NGINX / "support.conf").read_text(), (NGINX / "actions.conf").read_text()
    k8s = k8s_nginx(load_k8s())
    assert k8s["support.conf"] == support, "the nginx ConfigMap's support.conf must be deploy/nginx/support.conf"
    assert nginx_problems((NGINX / "upstreams.compose.conf").read_text(), [support, actions], "compose") == []
    assert nginx_problems(k8s["upstreams.conf"], [support], "k8s") == []
    assert nginx_problems(upstreams_conf([1, 2], [3, 4], 5), [support, actions], "tests/replica") == []
    assert "include /etc/nginx/support/support.conf;" in k8s["nginx.conf"]
    for main in ((NGINX / "nginx.conf").read_text(), k8s["nginx.conf"]):
        assert re.search(r"^\s*resolver\s", main, re.MULTILINE), "`resolve` in the upstreams needs a resolver"
    # a session token (the web chat's bearer credential) never reaches the access log
    log_format = re.search(r"log_format support (.*?);", support, re.DOTALL).group(1)
    assert not re.search(r"\$(request\b|request_uri|args|arg_|query_string)", log_format), log_format
    # REST: a request no server took is passed on; one a server took is not replayed (docs/deploy.md)
    webhooks = location(support, "/webhooks/")
    assert re.search(r"proxy_next_upstream\s+error timeout;", webhooks), webhooks
    assert "non_idempotent" not in webhooks
    # only the chat page, socket.io, the webhooks (and the web chat's uploads, up to 10 MiB) and nginx's own health
    # check are routed
    routed = set(re.findall(r"location\s+(?:=\s+)?(\S+)\s*\{", support))
    expected = {"/socket.io/", "/webhooks/", "/webhooks/socketio/upload", "/healthz", "/", "/static/", "/config.js"}
    assert routed == expected | {"/webhooks/socketio/agent"}, routed
    # the agent inbox's relay into the web chat is never routed from outside (issue 17; docs/handoff.md)
    assert "return 404;" in location(support, "= /webhooks/socketio/agent")
    upload = location(support, "= /webhooks/socketio/upload")
    assert "client_max_body_size 10m;" in upload and "non_idempotent" not in upload, upload
    assert "return 404;" in location(support, "/"), "everything else (Rasa's HTTP API) is not routed"


def test_the_tracker_database_init_script_is_the_same_for_compose_and_kubernetes():
    init = next(o for o in load_k8s() if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "postgres-init")
    assert init["data"]["10-tracker-db.sql"] == (DEPLOY / "postgres" / "init-tracker-db.sql").read_text()


def test_secret_files_stay_out_of_git_and_out_of_the_images():
    tracked = subprocess.run(
        ["git", "ls-files", "deploy"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [path for path in tracked if path.endswith(("secrets.env", "postgres.env"))], tracked
    ignored = (DEPLOY / ".gitignore").read_text().split()
    assert {"secrets.env", "postgres.env"} <= set(ignored)
    dockerignore = (ROOT / ".dockerignore").read_text().split()
    assert {"var/", "**/secrets.env", "**/postgres.env", ".git", ".venv*"} <= set(dockerignore)
    for name in ("secrets.env", "postgres.env"):
        values = env_file_values(name)
        assert values and all(PLACEHOLDER in value for value in values.values()), values


# ---- the entrypoints, run ---------------------------------------------------------------------------------------

TOKENS = {name: f"{name.lower()}-{'x' * 40}" for name in botstack.SECRET_NAMES}
RASA_ENV = {
    **TOKENS,
    "TRACKER_STORE_URL": "postgresql://support:pw@postgres:5432/tracker",
    "ACTION_ENDPOINT_URL": "http://actions:5055/webhook",
    "LOCK_STORE_TYPE": "redis",
    "LOCK_STORE_HOST": "redis",
    "LOCK_STORE_PORT": "6379",
    "LOCK_STORE_DB": "1",
    "RATE_LIMIT_STORAGE": "redis://redis:6379/2",
    "CHAT_ALLOWED_ORIGINS": "https://chat.example.com,https://shop.example.com",
}


def run_entrypoint(script: str, env: dict[str, str], tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """The entrypoint under ``sh``, with ``rasa`` and ``python`` stand-ins that print their arguments as JSON."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("rasa", "python"):
        stub = bin_dir / tool
        stub.write_text(
            "#!/bin/sh\nexec /usr/bin/env python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' \"$@\"\n"
        )
        stub.chmod(0o755)
    return subprocess.run(
        ["sh", str(DOCKER / script), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", **env},
    )


def test_the_rasa_entrypoint_starts_rasa_as_botstack_does(tmp_path):
    started = run_entrypoint("rasa-entrypoint.sh", RASA_ENV, tmp_path)
    assert started.returncode == 0, started.stderr
    argv = json.loads(started.stdout)
    assert argv == [
        "run", "--enable-api", f"--auth-token={TOKENS['RASA_API_TOKEN']}",
        "--cors", "https://chat.example.com", "https://shop.example.com",
        "--interface", "0.0.0.0", "--port", "5005", "--model", "/app/models",
        "--endpoints", "/app/endpoints.yml", "--credentials", "/app/credentials.yml",
    ]  # fmt: skip
    settings = botstack.Settings.for_tests(tmp_path, secrets=TOKENS)
    options = [arg.split("=", 1)[0] for arg in botstack.rasa_run_argv(settings)[1:] if arg.startswith("--")]
    assert [arg.split("=", 1)[0] for arg in argv if arg.startswith("--")] == options, "the same options as make run"


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"RASA_API_TOKEN": PLACEHOLDER}, "RASA_API_TOKEN"),
        ({"CHAT_SESSION_SECRET": "short"}, "CHAT_SESSION_SECRET"),
        ({"TRACKER_STORE_URL": "postgresql://support:CHANGE-ME@postgres:5432/tracker"}, "TRACKER_STORE_URL"),
        ({"LOCK_STORE_TYPE": "in_memory"}, "LOCK_STORE_TYPE"),
        ({"RATE_LIMIT_STORAGE": "memory://"}, "RATE_LIMIT_STORAGE"),
        ({"CHAT_ALLOWED_ORIGINS": "*"}, "CHAT_ALLOWED_ORIGINS"),
        ({"ACTION_ENDPOINT_URL": ""}, "ACTION_ENDPOINT_URL"),
    ],
)
def test_the_rasa_entrypoint_refuses_placeholders_and_single_process_settings(tmp_path, change, refusal):
    refused = run_entrypoint("rasa-entrypoint.sh", {**RASA_ENV, **change}, tmp_path)
    assert refused.returncode == 2 and refusal in refused.stderr, (refused.returncode, refused.stderr)
    assert refused.stdout == "", "rasa must not have been started"


def test_the_actions_entrypoint_starts_the_action_server_or_the_engine_cli(tmp_path):
    env = {
        "ACTION_SERVER_TOKEN": TOKENS["ACTION_SERVER_TOKEN"],
        "SANIC_HOST": "0.0.0.0",
        "DATABASE_URL": "postgresql+psycopg://support:pw@postgres:5432/support",
    }
    server = run_entrypoint("actions-entrypoint.sh", env, tmp_path)
    assert json.loads(server.stdout) == ["-m", "actions.server", "--port", "5055"], server.stderr
    migrate = run_entrypoint(
        "actions-entrypoint.sh", {"DATABASE_URL": env["DATABASE_URL"]}, tmp_path, "policy_engine", "migrate"
    )
    assert json.loads(migrate.stdout) == ["-m", "policy_engine", "migrate"], migrate.stderr
    for change in (
        {"ACTION_SERVER_TOKEN": PLACEHOLDER + "x" * 40},
        {"ACTION_SERVER_TOKEN": "short"},
        {"DATABASE_URL": "postgresql+psycopg://support:CHANGE-ME@postgres/support"},
    ):
        refused = run_entrypoint("actions-entrypoint.sh", {**env, **change}, tmp_path)
        assert refused.returncode == 2 and refused.stdout == "", (change, refused.stderr)


def test_make_secrets_writes_private_files_that_the_entrypoints_accept(tmp_path):
    copy_dir = tmp_path / "deploy"
    copy_dir.mkdir()
    script = copy_dir / "make-secrets.sh"
    script.write_text((DEPLOY / "make-secrets.sh").read_text())
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for name in ("secrets.env", "postgres.env"):
        assert (copy_dir / name).stat().st_mode & 0o777 == 0o600
        values = dict(
            line.split("=", 1)
            for line in (copy_dir / name).read_text().splitlines()
            if "=" in line and not line.startswith("#")
        )
        assert set(values) == env_file_keys(name), name
    secrets = dict(
        line.split("=", 1)
        for line in (copy_dir / "secrets.env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    password = (copy_dir / "postgres.env").read_text().split("POSTGRES_PASSWORD=", 1)[1].strip()
    assert f":{password}@" in secrets["DATABASE_URL"] and f":{password}@" in secrets["TRACKER_STORE_URL"]
    started = run_entrypoint("rasa-entrypoint.sh", {**RASA_ENV, **secrets}, tmp_path)
    assert started.returncode == 0, started.stderr
    again = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 1, "never overwrites existing secrets"


# ---- the checks find what they are meant to find ----------------------------------------------------------------


def test_the_checks_find_an_unpinned_image():
    compose = load_compose()
    compose["services"]["redis"]["image"] = "redis:latest"
    compose["services"]["web"]["image"] = "support/web"
    found = unpinned(compose_images(compose))
    assert len(found) == 2 and "redis:latest" in found[0] + found[1]


def test_the_checks_find_a_secret_written_inline_or_a_missing_variable():
    compose = copy.deepcopy(load_compose())
    compose["services"]["rasa-1"]["environment"]["RASA_API_TOKEN"] = "x" * 40
    del compose["services"]["actions-1"]["environment"]["SANIC_HOST"]
    found = compose_problems(compose)
    assert any("RASA_API_TOKEN is written inline" in p for p in found), found
    assert any("SANIC_HOST is not provided" in p for p in found), found

    objects = load_k8s()
    rasa = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "rasa")
    container = rasa["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [e for e in container["env"] if e["name"] != "TRACKER_STORE_URL"] + [
        {"name": "TRACKER_STORE_URL", "value": "postgresql://support:pw@postgres:5432/tracker"}
    ]
    actions = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "actions")
    del actions["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    config = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "support-config")
    config["data"]["LOCK_STORE_TYPE"] = "in_memory"
    found = k8s_problems(objects)
    assert any("TRACKER_STORE_URL is not taken from the Secret" in p for p in found), found
    assert any("actions/actions: no readinessProbe" in p for p in found), found
    assert any("LOCK_STORE_TYPE must be 'redis'" in p for p in found), found


def test_the_checks_find_ports_that_disagree():
    compose = copy.deepcopy(load_compose())
    compose["services"]["rasa-1"]["environment"]["ACTION_ENDPOINT_URL"] = "http://nginx:5056/webhook"
    support, actions = (NGINX / "support.conf").read_text(), (NGINX / "actions.conf").read_text()
    upstreams = (NGINX / "upstreams.compose.conf").read_text().replace("rasa-2:5005", "rasa-2:5006")
    found = compose_port_problems(compose, support, actions, upstreams)
    assert any("ACTION_ENDPOINT_URL" in p for p in found), found
    assert any("rasa-2:5006" in p for p in found), found
    objects = load_k8s()
    moved = listen_on(support, 8080, 8081)
    found = k8s_port_problems(objects, moved, k8s_nginx(objects)["upstreams.conf"].replace("rasa-pods", "rasa"))
    assert any("inbox.conf listen on [8081, 8090]" in p for p in found), found
    assert any("must be headless" in p for p in found), found


def test_the_checks_find_an_upstream_that_is_not_sticky_or_not_defined():
    upstreams = (NGINX / "upstreams.compose.conf").read_text().replace("hash $arg_token consistent;", "")
    found = nginx_problems(upstreams, [(NGINX / "support.conf").read_text(), "proxy_pass http://nowhere;"], "x")
    assert any("rasa_sticky must hash" in p for p in found), found
    assert any("nowhere" in p for p in found), found
    upstreams = (NGINX / "upstreams.compose.conf").read_text().replace("keepalive 16;", "ip_hash;", 1)
    assert any("round robin" in p for p in nginx_problems(upstreams, [], "x"))


def test_no_check_is_vacuous():
    """Each environment has the processes the checks look at (an empty manifest would pass every other test)."""
    roles = {role_of_image(s.get("image", ""), s.get("command")) for s in load_compose()["services"].values()}
    assert {"nginx", "rasa", "actions", "migrate", "web", "postgres", "redis", "inbox"} <= roles
    compose_rasa = [n for n, s in load_compose()["services"].items() if role_of_image(s["image"]) == "rasa"]
    assert len(compose_rasa) == 2, compose_rasa
    objects = load_k8s()
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for name in ("rasa", "actions", "web", "nginx", "redis", "inbox"):
        assert ("Deployment", name) in kinds
    assert ("StatefulSet", "postgres") in kinds and ("Job", "support-migrate") in kinds
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    assert deployments["rasa"]["spec"]["replicas"] >= 2 and deployments["actions"]["spec"]["replicas"] >= 2
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.yaml"}, listed
    assert os.access(DOCKER / "rasa-entrypoint.sh", os.X_OK) and os.access(DOCKER / "actions-entrypoint.sh", os.X_OK)


def test_the_chat_page_server_configuration_is_valid_nginx(tmp_path):
    """The chat page's nginx.conf, checked by this machine's nginx (make system-deps installs it); the front
    configuration is checked the same way, and run, by tests/replica."""
    conf = (DEPLOY / "web" / "nginx.conf").read_text()
    conf = conf.replace("user nginx;\n", "").replace("pid /tmp/nginx.pid;", f"pid {tmp_path / 'nginx.pid'};")
    (tmp_path / "nginx.conf").write_text(conf)
    checked = subprocess.run(
        [nginx_binary(), "-e", "stderr", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-t"],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_the_agent_inbox_has_its_own_nginx_port_and_the_relay_stays_unrouted():
    """Issue 17: the inbox behind nginx on a port of its own (compose publishes it on loopback, Kubernetes through a
    ClusterIP Service only); neither server of nginx routes Rasa's relay endpoint; the public one never the inbox."""
    support, inbox = (NGINX / "support.conf").read_text(), (NGINX / "inbox.conf").read_text()
    objects = load_k8s()
    assert k8s_nginx(objects)["inbox.conf"] == inbox, "the nginx ConfigMap's inbox.conf must be deploy/nginx/inbox.conf"
    assert "include /etc/nginx/support/inbox.conf;" in k8s_nginx(objects)["nginx.conf"]
    assert "include /etc/nginx/support/inbox.conf;" in (NGINX / "nginx.conf").read_text()
    assert set(re.findall(r"proxy_pass\s+http://(\w+)", inbox)) == {"agent_inbox"}
    assert "agent_inbox" not in support
    assert "return 404;" in location(inbox, "= /webhooks/socketio/agent")
    assert re.search(r"proxy_set_header Host \$http_host;", inbox), "the inbox's Origin check needs the port"
    compose = load_compose()
    nginx_ports = [str(p) for p in compose["services"]["nginx"]["ports"]]
    assert any(p.startswith("${INBOX_BIND:-127.0.0.1}:") and p.endswith(":8090") for p in nginx_ports), nginx_ports
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    public = [n for n, o in services.items() if o["spec"].get("type") == "LoadBalancer"]
    assert public == ["nginx"] and [p["port"] for p in services["nginx"]["spec"]["ports"]] == [80]
    assert services["nginx-inbox"]["spec"]["type"] == "ClusterIP"


def test_uploads_are_one_volume_shared_by_rasa_the_action_servers_and_the_inbox():
    assert compose_upload_problems(load_compose()) == []
    assert k8s_upload_problems(load_k8s()) == []
    compose = load_compose()
    compose["services"]["actions-1"] = {**compose["services"]["actions-1"], "volumes": []}
    assert compose_upload_problems(compose) == ["compose actions-1: no shared named volume at /var/lib/support/uploads"]
    objects = copy.deepcopy(load_k8s())
    claim = next(o for o in objects if o["kind"] == "PersistentVolumeClaim")
    claim["spec"]["accessModes"] = ["ReadWriteOnce"]
    assert k8s_upload_problems(objects) and all("ReadWriteMany" in p for p in k8s_upload_problems(objects))


def test_the_inbox_entrypoint_refuses_a_placeholder_relay_token(tmp_path):
    env = {"DATABASE_URL": "postgresql+psycopg://support:pw@postgres:5432/support"}
    args = ("policy_engine", "inbox", "--host", "0.0.0.0", "--port", "8090")
    for token in ("", PLACEHOLDER + "x" * 40):
        refused = run_entrypoint("actions-entrypoint.sh", {**env, "HANDOFF_RELAY_TOKEN": token}, tmp_path, *args)
        assert refused.returncode == 2 and "HANDOFF_RELAY_TOKEN" in refused.stderr and refused.stdout == ""
    started = run_entrypoint("actions-entrypoint.sh", {**env, "HANDOFF_RELAY_TOKEN": "r" * 43}, tmp_path, *args)
    assert json.loads(started.stdout) == ["-m", "policy_engine", *args[1:]], started.stderr
