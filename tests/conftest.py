"""Fixtures shared by every test folder: certificates, the PostgreSQL peer, store URLs."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers import vigil
from tests.peers.postgres import postgres_server

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A development CA with a collector cert, agent certs, and a rogue CA's agent cert."""
    from collector import certs

    directory = tmp_path_factory.mktemp("pki")
    certs.create_ca(directory)
    certs.issue_collector(directory, ["localhost", "127.0.0.1"])
    for agent_id in ("agent-a", "agent-b", "agent-c"):
        certs.issue_agent(directory, agent_id)
    rogue = directory / "rogue"
    certs.create_ca(rogue, "Someone else's CA")
    certs.issue_agent(rogue, "agent-a")
    return directory


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A new, empty database on the test PostgreSQL server."""
    from sqlalchemy import create_engine, text

    name = f"vigil_test_{next(_databases)}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    yield postgres_admin_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same store test runs on SQLite (embedded default) and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vigil.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    vigil.started.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """A failing end-to-end test shows the logs of the Vigil processes it started (CI keeps nothing else)."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when in ("setup", "call"):
        for process in vigil.started:
            report.sections.append((f"log {process.log}", process.tail()))
