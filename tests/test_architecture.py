"""Dependencies point inwards: the domain knows nothing of Flask, the web or the gateway, the
services nothing of the channels nor which database they run on, every text a person reads is in
the one message catalogue, and a use case never imports another (the services' infrastructure is
shared; orchestrators run use cases)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, resolved to absolute names, with its line."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def _violations(
    folder: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()
) -> list[str]:
    bad = []
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, f"no Python files under {folder}"
    for path in files:
        for line, name in _imports(path):
            if any(name == a or name.startswith(a + ".") for a in allowed):
                continue
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return bad


def test_the_domain_imports_nothing_from_flask_the_web_the_services_or_sms() -> None:
    assert (
        _violations(
            "marketplace/domain",
            (
                "flask",
                "flask_sqlalchemy",
                "flask_login",
                "flask_wtf",
                "werkzeug",
                "marketplace.web",
                "marketplace.services",
                "sms",
            ),
        )
        == []
    )


def test_the_services_import_nothing_from_the_web_or_sms() -> None:
    assert _violations("marketplace/services", ("marketplace.web", "sms")) == []


def test_the_message_catalogue_imports_no_flask_no_service_and_no_channel() -> None:
    forbidden = ("flask", "marketplace.web", "marketplace.services", "marketplace.domain", "sms")
    assert _violations("marketplace/messages", forbidden) == []


def _text_tables(path: Path) -> list[str]:
    """Texts written out by language ({"en": "...", "sw": "..."}) and functions named t: a
    catalogue of its own. (Names the database keeps in both languages are not texts of ours.)"""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Dict):
            literal = {
                k.value
                for k, v in zip(node.keys, node.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)
            }
            if {"en", "sw"} <= literal:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} a dict of texts by language")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "t":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} defines t()")
    return found


def test_only_the_message_catalogue_keeps_texts_and_defines_t() -> None:
    """Pages, USSD screens and SMS read their words from `marketplace/messages/` (gettext PO
    files); no module keeps its own table of translations or its own `t()`."""
    catalogue = ROOT / "marketplace" / "messages" / "catalogue.py"
    files = [*sorted((ROOT / "marketplace").rglob("*.py")), *sorted((ROOT / "sms").rglob("*.py"))]
    found = [bad for path in files if path != catalogue for bad in _text_tables(path)]
    assert found == []


_LISTENING = ("listen", "listens_for")  # sqlalchemy.event's (and any other event API's) names


def _import_time_listeners(path: Path) -> list[int]:
    """Lines where a module registers an event listener as it is imported: a `listen(...)` or
    `listens_for(...)` call anywhere but inside a function body (decorators of a module-level
    function and class bodies run at import)."""
    found: list[int] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                for part in (*child.decorator_list, *child.args.defaults):
                    visit_expression(part)
                continue  # the body runs when called, not when imported
            if isinstance(child, ast.Lambda):
                continue
            if isinstance(child, ast.Call) and _called(child) in _LISTENING:
                found.append(child.lineno)
            visit(child)

    def visit_expression(node: ast.AST) -> None:
        if isinstance(node, ast.Call) and _called(node) in _LISTENING:
            found.append(node.lineno)
        visit(node)

    visit(ast.parse(path.read_text(), str(path)))
    return found


def _called(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _modules() -> list[Path]:
    return [
        *sorted((ROOT / "marketplace").rglob("*.py")),
        *sorted((ROOT / "sms").rglob("*.py")),
        ROOT / "config.py",
        ROOT / "wsgi.py",
    ]


def test_no_module_registers_event_listeners_when_it_is_imported() -> None:
    """What happens on a commit, a connection or a checkout is wired where it can be seen: by the
    app factory, or by the code that opens the engine, never as a side effect of an import."""
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _modules()
        for line in _import_time_listeners(path)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("source", "registers"),
    [
        ("@sa.event.listens_for(Session, 'before_commit')\ndef f(s):\n    pass\n", True),
        ("from sqlalchemy import event\nevent.listen(Engine, 'connect', print)\n", True),
        ("class C:\n    sa.event.listen(Engine, 'connect', print)\n", True),
        ("if True:\n    listens_for(Engine, 'connect')(print)\n", True),
        ("def wire(engine):\n    sa.event.listen(engine, 'connect', print)\n", False),
        ("def wire(engine):\n    @sa.event.listens_for(engine, 'connect')\n    def f(*a):\n"
         "        pass\n", False),
    ],
)  # fmt: skip
def test_the_listener_reader_sees_registrations_at_import_and_only_those(
    tmp_path: Path, source: str, registers: bool
) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(source)
    assert bool(_import_time_listeners(probe)) == registers


def test_the_web_and_the_sms_channel_do_not_import_each_other() -> None:
    """What both need (how a channel answers HTTP) is in `marketplace/http.py`; the phone
    simulator, which drives the gateway's routes and has a web page, stands outside both."""
    assert _violations("marketplace/web", ("sms",)) == []
    assert _violations("sms", ("marketplace.web",)) == []


def test_the_sms_gateway_interface_knows_no_backend_and_only_its_backend_knows_the_sdk() -> None:
    """`sms/gateway.py` is imported by the backends, never the other way round (`sms/backends.py`
    picks one by name); the Africa's Talking SDK is imported by its backend alone."""
    interface = [name for _, name in _imports(ROOT / "sms" / "gateway.py")]
    assert [n for n in interface if n.startswith(("sms.", "africastalking"))] == []
    sdk = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _modules()
        for line, name in _imports(path)
        if name == "africastalking" or name.startswith("africastalking.")
    ]
    assert sdk and all(found.startswith("sms/africastalking.py:") for found in sdk), sdk


def test_only_the_mpesa_backend_speaks_daraja_and_the_payment_interface_knows_no_backend() -> None:
    """`payments/gateway.py` knows no backend (`payments/backends.py` picks one by name); the
    M-Pesa backend alone imports `cryptography` (the SecurityCredential) and names Daraja's
    paths; the services and the web know no payment channel."""
    interface = [name for _, name in _imports(ROOT / "payments" / "gateway.py")]
    assert [n for n in interface if n.startswith(("payments.", "cryptography", "requests"))] == []
    files = [*_modules(), *sorted((ROOT / "payments").rglob("*.py"))]
    crypto = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in files
        for line, name in _imports(path)
        if name.split(".")[0] == "cryptography"
    ]
    assert crypto and all(found.startswith("payments/mpesa.py:") for found in crypto), crypto
    daraja = [
        str(path.relative_to(ROOT))
        for path in files
        if "/mpesa/b2c/" in path.read_text() or "safaricom.co.ke" in path.read_text()
    ]
    assert "payments/mpesa.py" in daraja and set(daraja) <= {"config.py", "payments/mpesa.py"}
    assert _violations("marketplace/services", ("payments",)) == []
    assert _violations("marketplace/web", ("payments",)) == []
    assert _violations("marketplace/domain", ("payments", "requests", "cryptography")) == []


_DIALECTS = ("postgresql", "postgres", "sqlite")
_DRIVERS = ("psycopg", "sqlalchemy.dialects")


def _database_questions(path: Path) -> list[str]:
    """Where a file asks which database it runs on: a driver or a dialect imported, a `.dialect`
    looked at, or a dialect named in code (a name or a string); docstrings and comments may say
    what a database does."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
        if any(n == d or n.startswith(d + ".") for n in names for d in _DRIVERS):
            found.append(f"{node.lineno}: imports {', '.join(names)}")
        elif isinstance(node, ast.Attribute) and node.attr in ("dialect", *_DIALECTS):
            found.append(f"{node.lineno}: looks at .{node.attr}")
        elif isinstance(node, ast.Name) and node.id.lower() in _DIALECTS:
            found.append(f"{node.lineno}: names {node.id}")
        elif isinstance(node, ast.Constant) and str(node.value).lower() in _DIALECTS:
            found.append(f"{node.lineno}: names {node.value!r}")
    return found


def test_the_services_never_ask_which_database_they_run_on() -> None:
    """The database's special powers (COPY, prepared statements, the read engine, dialect
    differences, tuning) are behind `marketplace/db/`: use cases state what they want once."""
    files = sorted((ROOT / "marketplace" / "services").rglob("*.py"))
    assert files
    found = [
        f"{path.relative_to(ROOT)}:{where}" for path in files for where in _database_questions(path)
    ]
    assert found == []


def test_the_sms_channel_never_asks_which_database_it_runs_on() -> None:
    """The USSD hop's fast paths (the read engine, prepared statements, the store's one-statement
    save on PostgreSQL) go through `marketplace/db/` too: the store asks `dialect`, no driver."""
    files = sorted((ROOT / "sms").rglob("*.py"))
    assert any(path.name == "store.py" for path in files)
    found = [
        f"{path.relative_to(ROOT)}:{where}" for path in files for where in _database_questions(path)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("source", "asks"),
    [
        ("import psycopg\n", True),
        ("from sqlalchemy.dialects.postgresql import ARRAY\n", True),
        ("def f(s):\n    return s.get_bind().dialect.name == 'x'\n", True),
        ("def f(name):\n    return name() == 'postgresql'\n", True),
        ("def f(t):\n    return sqlite.insert(t)\n", True),
        ('"""Fast on PostgreSQL, fine on SQLite."""\nfrom ..db import dialect\n', False),
        ("def f(c, v):\n    return dialect.any_of(c, v)\n", False),
    ],
)
def test_the_database_question_is_seen_however_it_is_asked(
    tmp_path: Path, source: str, asks: bool
) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(source)
    assert bool(_database_questions(probe)) == asks


# The services' own infrastructure: the one transaction of a use case (`unit`), what it writes
# beside its change (`audit`, the `outbox` row, the statistics' change log `stats_log`), the rows it
# loads and locks (`lookups`), settings and reference data. Every use case may import these (and
# `marketplace/db/`); they import nothing else of the services.
# `payout_accounts` reads where a provider's money goes, as approved: every use case that pays
# asks it, and it only reads.
SERVICE_INFRASTRUCTURE = frozenset(
    {"unit", "audit", "outbox", "stats_log", "lookups", "settings", "reference", "payout_accounts"}
)
# Orchestrators run other use cases one after another: the scheduler's jobs, the demo data.
ORCHESTRATORS = frozenset({"scheduler", "demo"})


def _service_imports() -> dict[str, list[tuple[int, str]]]:
    """Each module of the services -> the other modules of the services it imports."""
    found = {}
    for path in sorted((ROOT / "marketplace" / "services").glob("*.py")):
        if path.stem == "__init__":
            continue
        found[path.stem] = [
            (line, name.split(".")[2])
            for line, name in _imports(path)
            if name.startswith("marketplace.services.") and name.split(".")[2] != path.stem
        ]
    return found


def _use_cases_importing_use_cases() -> list[str]:
    modules = _service_imports()
    return [
        f"marketplace/services/{module}.py:{line} imports {other}"
        for module in sorted(set(modules) - ORCHESTRATORS)
        for line, other in modules[module]
        if other not in SERVICE_INFRASTRUCTURE
    ]


def test_use_cases_do_not_import_each_other_only_the_services_infrastructure() -> None:
    """A use case shares what it needs through the infrastructure modules, never by calling
    another use case; only the orchestrators run other use cases."""
    modules = _service_imports()
    assert set(modules) >= {"unit", "audit", "outbox", "lookups"} | ORCHESTRATORS
    assert {"bookings", "sessions", "vouchers", "issuance"} <= (
        set(modules) - SERVICE_INFRASTRUCTURE - ORCHESTRATORS
    )
    assert _use_cases_importing_use_cases() == []


def test_the_rule_on_use_cases_sees_one_importing_another() -> None:
    probe = ROOT / "marketplace" / "services" / "_probe_for_test.py"
    try:
        probe.write_text("from . import lookups, unit\nfrom .bookings import book_provider\n")
        found = _use_cases_importing_use_cases()
    finally:
        probe.unlink()
    assert found == ["marketplace/services/_probe_for_test.py:2 imports bookings"]


def test_the_domain_declares_no_http_status() -> None:
    """A domain error names what was refused (`code`); what that means in HTTP is the web layer's
    table (`marketplace/web/errors.py`). Holds for the errors the services add too."""
    import importlib
    import pkgutil

    from marketplace.domain import errors

    for package in ("marketplace.domain", "marketplace.services"):
        for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
            importlib.import_module(f"{package}.{module.name}")
    found, todo = [], [errors.DomainError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    assert len(found) > 20
    declared = [
        cls.__qualname__ for cls in found if "status" in vars(cls) or "status_code" in vars(cls)
    ]
    assert declared == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from flask import Flask\n", "flask"),
        ("from ..web.api import bp\n", "marketplace.web.api"),
        ("import sms.gateway\n", "sms.gateway"),
    ],
)
def test_the_import_reader_sees_relative_and_absolute_imports(
    tmp_path: Path, source: str, expected: str
) -> None:
    fake = ROOT / "marketplace" / "domain" / "_probe_for_test.py"
    try:
        fake.write_text(source)
        names = [name for _, name in _imports(fake)]
    finally:
        fake.unlink()
    assert any(n == expected or n.startswith(expected + ".") for n in names)
