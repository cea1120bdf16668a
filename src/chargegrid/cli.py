"""The ``chargegrid`` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from chargegrid.config import Settings, load_settings
from chargegrid.simulator import cli as sim_cli
from chargegrid.tariffs import cli as tariffs_cli


def _uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - platforms without uvloop
        return
    uvloop.install()


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="overrides CHARGEGRID_DATABASE_URL")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chargegrid", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the OCPP gateway and the HTTP API")
    _common(serve)
    serve.add_argument("--host", help="overrides CHARGEGRID_HOST")
    serve.add_argument("--ocpp-port", type=int, help="overrides CHARGEGRID_OCPP_PORT")
    serve.add_argument("--ocpp-tls-port", type=int, help="overrides CHARGEGRID_OCPP_TLS_PORT (wss)")
    serve.add_argument("--http-port", type=int, help="overrides CHARGEGRID_HTTP_PORT")
    serve.add_argument(
        "--auto-register",
        action="store_const",
        const=True,
        help="accept unknown chargers (overrides CHARGEGRID_AUTO_REGISTER)",
    )

    demo = commands.add_parser(
        "demo", help="serve on the embedded database with simulated chargers (make run)"
    )
    _common(demo)
    demo.add_argument("--host", help="overrides CHARGEGRID_HOST")
    demo.add_argument("--ocpp-port", type=int, help="overrides CHARGEGRID_OCPP_PORT")
    demo.add_argument("--http-port", type=int, help="overrides CHARGEGRID_HTTP_PORT")
    demo.add_argument(
        "--chargers", type=int, default=10, help="simulated chargers to run (default 10)"
    )
    demo.add_argument(
        "--session-rate",
        type=float,
        default=6.0,
        help="charging sessions per charger per hour (default 6)",
    )

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply pending migrations")
    _common(upgrade)

    token = commands.add_parser("token", help="API bearer tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token and print it")
    _common(create)
    create.add_argument("--role", choices=["admin", "operator", "viewer"], required=True)
    create.add_argument("--name", help="what the token is for")

    users = commands.add_parser("users", help="operator users who sign in to the API")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    user_create = users_commands.add_parser("create", help="create a user and print it")
    _common(user_create)
    user_create.add_argument("--email", required=True, help="the sign-in name")
    user_create.add_argument(
        "--password", required=True, help="at least 8 characters; - reads it from standard input"
    )
    user_create.add_argument("--role", choices=["admin", "operator", "viewer"], required=True)
    user_create.add_argument("--name", help="display name")
    user_list = users_commands.add_parser("list", help="print every user, one per line")
    _common(user_list)

    pki = commands.add_parser("pki", help="the built-in CSMS certificate authority")
    pki_commands = pki.add_subparsers(dest="pki_command", required=True)
    init = pki_commands.add_parser(
        "init",
        help="create a CA and TLS server certificates for a host name, print the settings",
    )
    init.add_argument("--host", required=True, help="host name (or IP address) chargers connect to")
    init.add_argument("--dir", type=Path, help="overrides CHARGEGRID_PKI_DIR (./var/pki)")
    init.add_argument(
        "--organization",
        help="subject O of the certificates (default: CHARGEGRID_TLS_CLIENT_ORGANIZATION "
        "or 'chargegrid')",
    )
    init.add_argument(
        "--force",
        action="store_true",
        help="replace server certificates made for another host (the CA is kept)",
    )
    sim_cli.add_parser(commands)
    tariffs_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "sim":  # a client of a CSMS: no settings, no database
        return sim_cli.run(args)
    if args.command == "tariffs":  # pure pricing: no settings, no database
        return tariffs_cli.run(args)
    try:
        settings = load_settings(
            database_url=getattr(args, "database_url", None),
            host=getattr(args, "host", None),
            ocpp_port=getattr(args, "ocpp_port", None),
            ocpp_tls_port=getattr(args, "ocpp_tls_port", None),
            pki_dir=getattr(args, "dir", None),
            http_port=getattr(args, "http_port", None),
            auto_register=getattr(args, "auto_register", None),
        )
        if args.command != "pki":  # the only command without a database
            from chargegrid.storage.engine import normalize_url

            normalize_url(settings.database_url)
    except ValueError as error:  # pydantic's ValidationError included
        parser.error(f"invalid settings: {error}")
    if args.command == "serve":
        return _serve(settings)
    if args.command == "demo":
        return _demo(settings, args.chargers, args.session_rate)
    if args.command == "db":
        return asyncio.run(_db_upgrade(settings))
    if args.command == "pki":
        return _pki_init(settings, args.host, args.organization, force=args.force)
    if args.command == "users":
        return asyncio.run(_users(settings, args))
    return asyncio.run(_token_create(settings, args.role, args.name))


def _serve(settings: Settings) -> int:
    from chargegrid.runtime import configure_logging, serve

    configure_logging(settings.log_level)
    _uvloop()
    asyncio.run(serve(settings))
    return 0


def _demo(settings: Settings, chargers: int, session_rate: float) -> int:
    from chargegrid.demo import run
    from chargegrid.runtime import configure_logging

    configure_logging(settings.log_level)
    _uvloop()
    asyncio.run(run(settings, chargers_count=chargers, session_rate=session_rate))
    return 0


async def _db_upgrade(settings: Settings) -> int:
    from chargegrid.storage.engine import normalize_url
    from chargegrid.storage.migrate import upgrade

    await upgrade(normalize_url(settings.database_url))
    print("database is up to date")
    return 0


async def _token_create(settings: Settings, role: str, name: str | None) -> int:
    from chargegrid.domain.clock import SystemClock
    from chargegrid.domain.services.access import Role, create_token
    from chargegrid.storage.engine import Database
    from chargegrid.storage.migrate import upgrade

    db = Database(settings.database_url)
    try:
        await upgrade(db.url)
        async with db.begin() as conn:
            token = await create_token(conn, role=Role(role), now=SystemClock().now(), name=name)
    finally:
        await db.dispose()
    print(token)
    return 0


async def _users(settings: Settings, args: argparse.Namespace) -> int:
    from chargegrid.domain.clock import SystemClock
    from chargegrid.domain.errors import DomainError
    from chargegrid.domain.services import users
    from chargegrid.domain.users import User
    from chargegrid.storage.engine import Database
    from chargegrid.storage.migrate import upgrade
    from chargegrid.storage.repositories import users as repo

    def line(user: User) -> str:
        state = "disabled" if user.disabled else "enabled"
        name = "" if user.name is None else f" name={user.name!r}"
        return f"id={user.id} email={user.email} role={user.role.value} {state}{name}"

    db = Database(settings.database_url)
    try:
        await upgrade(db.url)
        if args.users_command == "list":
            async with db.connect() as conn:
                page = await repo.list_page(conn, limit=1_000_000, offset=0)
            for user in page.items:
                print(line(user))
            return 0
        password = sys.stdin.readline().rstrip("\n") if args.password == "-" else args.password
        try:
            async with db.begin() as conn:
                created = await users.create(
                    conn,
                    email=args.email,
                    password=password,
                    role=args.role,
                    name=args.name,
                    now=SystemClock().now(),
                )
        except DomainError as error:
            print(f"chargegrid users create: {error.message}", file=sys.stderr)
            return 1
    finally:
        await db.dispose()
    print(line(created))
    return 0


def _pki_init(settings: Settings, host: str, organization: str | None, *, force: bool) -> int:
    from chargegrid.domain.clock import SystemClock
    from chargegrid.pki.files import PkiError, init_pki

    try:
        result = init_pki(
            settings.pki_dir,
            host=host,
            organization=organization or settings.tls_client_organization or "chargegrid",
            now=SystemClock().now(),
            server_days=settings.pki_cert_days,
            force=force,
        )
    except (PkiError, OSError) as error:
        print(f"chargegrid pki init: {error}", file=sys.stderr)
        return 1
    layout = result.layout
    made = [
        "created the CA" if result.created_authority else "kept the existing CA",
        "created server certificates"
        if result.created_server_certificates
        else "server certificates already in place",
    ]
    print(f"# {layout.directory}: {', '.join(made)} for {host}", file=sys.stderr)
    print("# chargers must trust " + str(layout.ca_certificate.resolve()), file=sys.stderr)
    for name, value in layout.settings().items():
        print(f"{name}={value}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
