"""docker-compose.yml, the Dockerfile and dags/.airflowignore, checked without a Docker engine.

The compose file is read with PyYAML (which resolves the `<<: *airflow-common` merge keys as compose
does) and validated against the compose schema; nothing here starts a container.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DAGS = ROOT / "dags"

SECRETS = ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET")
REQUIRED_VAR = re.compile(r"^\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*):\?[^}]+\}$")
AIRFLOW_COMPONENTS = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "flower",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


@pytest.fixture(scope="module")
def airflow_services(compose, services) -> dict[str, dict]:
    """Services built from the common block's image: every Airflow component."""
    image = compose["x-airflow-common"]["image"]
    return {name: service for name, service in services.items() if service.get("image") == image}


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment should be a mapping (merged from &airflow-common-env)"
    return {key: str(value) for key, value in env.items()}


def test_every_airflow_component_uses_the_common_block(airflow_services):
    missing = AIRFLOW_COMPONENTS - set(airflow_services)
    assert not missing, f"not built from x-airflow-common: {missing}"


def test_secrets_are_shared_and_required_never_literal(compose, airflow_services):
    common = _env(compose["x-airflow-common"])
    for key in SECRETS:
        match = REQUIRED_VAR.match(common.get(key, ""))
        assert match, f"{key} should be ${{VAR:?message}} (required from the environment), got {common.get(key)!r}"
    for name, service in airflow_services.items():
        env = _env(service)
        for key in SECRETS:
            assert env.get(key) == common[key], f"{name}: {key} is not the common block's shared value"


def test_executor_defaults_to_local_and_can_be_switched(compose):
    assert _env(compose["x-airflow-common"])["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}"


def test_logs_volume_mounted_in_every_airflow_service(compose, airflow_services):
    assert "airflow-logs" in compose["volumes"]
    for name, service in airflow_services.items():
        assert "airflow-logs:/opt/airflow/logs" in service.get("volumes", []), name


def test_airflow_services_run_as_airflow_uid(airflow_services):
    for name, service in airflow_services.items():
        if name == "airflow-init":
            continue
        assert service.get("user") == "${AIRFLOW_UID:-50000}:0", name


def test_init_owns_volumes_migrates_and_every_other_airflow_service_waits_for_it(airflow_services):
    init = airflow_services["airflow-init"]
    script = "\n".join(init["command"])
    assert 'chown -R "${AIRFLOW_UID:-50000}:0" /opt/airflow/logs /opt/airflow/newsflow' in script
    assert "airflow db migrate" in script
    assert "newsflow db migrate" in script
    assert "airflow pools set newsflow_fetch" in script  # the DAGs' fetch tasks wait forever without it
    assert init.get("restart") == "no"
    for name, service in airflow_services.items():
        if name == "airflow-init":
            continue
        depends = service.get("depends_on", {})
        assert depends.get("airflow-init") == {"condition": "service_completed_successfully"}, name
        assert depends.get("postgres") == {"condition": "service_healthy"}, name


def test_every_long_running_service_has_a_healthcheck(services):
    long_running = {name for name, service in services.items() if service.get("restart") != "no"}
    assert {"postgres", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor"} <= long_running
    for name in long_running:
        check = services[name].get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_celery_profile_has_redis_worker_and_flower(services):
    celery = {name for name, service in services.items() if "celery" in service.get("profiles", [])}
    assert celery == {"redis", "airflow-worker", "flower"}
    assert services["airflow-worker"]["command"] == "celery worker"
    assert services["flower"]["command"] == "celery flower"
    for name in ("airflow-worker", "flower"):
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}, name
    not_celery = {name for name, service in services.items() if name not in celery}
    for name in not_celery:
        assert "redis" not in services[name].get("depends_on", {}), f"{name} needs redis outside the profile"


def test_published_ports_bind_to_loopback_only(services):
    assert services["airflow-apiserver"]["ports"] == ["127.0.0.1:8080:8080"]
    for name, service in services.items():
        for port in service.get("ports", []):
            assert isinstance(port, str) and port.startswith("127.0.0.1:"), f"{name} publishes {port!r} publicly"


def test_compose_file_matches_the_compose_schema():
    tool = Path(sys.executable).parent / "check-jsonschema"
    if not tool.exists():
        pytest.skip(f"{tool} is not installed (pip install -c constraints.txt -e '.[dev]')")
    result = subprocess.run(
        [str(tool), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _airflow_pin() -> str:
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["airflow"]
    pins = [req.split("==", 1)[1] for req in extra if req.startswith("apache-airflow==")]
    assert len(pins) == 1, extra
    return pins[0]


def test_dockerfile_base_image_matches_the_pinned_airflow():
    version = _airflow_pin()
    bases = re.findall(r"^FROM\s+(\S+)", DOCKERFILE.read_text(), flags=re.MULTILINE)
    assert bases == [f"apache/airflow:{version}-python3.11"]
    assert f'"apache-airflow=={version}"' in DOCKERFILE.read_text(), (
        "pip install should hold Airflow at the image's version"
    )


def test_dockerfile_does_not_install_the_development_freeze():
    instructions = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    text = "\n".join(instructions)
    assert "constraints.txt" not in text, "constraints.txt would replace the image's Airflow and providers"
    assert "--no-deps /opt/newsflow" in text
    assert "pip check" in text


def test_runtime_requirements_are_current_and_leave_airflow_alone():
    result = subprocess.run(
        [sys.executable, str(ROOT / "docker" / "runtime_requirements.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = (ROOT / "docker" / "requirements-runtime.txt").read_text().splitlines()
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert requirements and all("==" in line for line in requirements)
    assert not [line for line in requirements if line.lower().startswith("apache-airflow")]


def test_airflowignore_keeps_the_helper_module_out_of_dag_parsing():
    from airflow.dag_processing.dagbag import DagBag

    dagbag = DagBag(dag_folder=str(DAGS))
    parsed = {Path(path).name for path in dagbag.file_last_changed}
    assert "newsflow_airflow.py" not in parsed
    assert {"news_nightly.py", "news_backfill.py", "news_reclassify.py"} <= parsed
    assert dagbag.import_errors == {}
