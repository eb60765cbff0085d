"""`python -m devtools <command>`: the developer and ops commands behind the Makefile."""

import argparse
import sys


def migrate(args: argparse.Namespace) -> None:
    from common.infra import db

    applied = db.migrate()
    print(f"applied: {', '.join(applied)}" if applied else "database is up to date")


def seed(args: argparse.Namespace) -> None:
    from devtools.seed import seed as seed_catalog

    seed_catalog()
    print("catalog seeded")


def serve(args: argparse.Namespace) -> None:
    from devtools.server import main as serve_main

    serve_main(port=args.port)


def bench(args: argparse.Namespace) -> None:
    from devtools.bench import main as bench_main

    bench_main()


def openapi(args: argparse.Namespace) -> None:
    import json

    from devtools.openapi import build_document

    json.dump(build_document(), sys.stdout, indent=2)
    print()


def bundle(args: argparse.Namespace) -> None:
    from devtools.bundle import main as bundle_main

    bundle_main([*args.names, *(["--report"] if args.report else [])])


def lock(args: argparse.Namespace) -> None:
    from devtools.lock import main as lock_main

    lock_main(["--upgrade"] if args.upgrade else [])


def deploy(args: argparse.Namespace) -> None:
    from devtools.deploy import main as deploy_main

    deploy_main([args.name] if args.name else [])


def deploy_hosting(args: argparse.Namespace) -> None:
    from devtools.deploy import main as deploy_main

    deploy_main(["--hosting"])


def pages(args: argparse.Namespace) -> None:
    from devtools.pages import main as pages_main

    pages_main(["--check"] if args.check else [])


def layers(args: argparse.Namespace) -> None:
    from devtools.layers import main as layers_main

    sys.exit(layers_main())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=migrate)
    commands.add_parser("seed", help="upsert the product catalog").set_defaults(run=seed)
    serve_cmd = commands.add_parser("serve", help="migrate, seed and serve the shop locally")
    serve_cmd.add_argument("--port", type=int, default=None)
    serve_cmd.set_defaults(run=serve)
    commands.add_parser("bench", help="cold start and import time of each function").set_defaults(
        run=bench
    )
    commands.add_parser("openapi", help="print the OpenAPI document").set_defaults(run=openapi)
    bundle_cmd = commands.add_parser("bundle", help="write build/functions/<name>/ per function")
    bundle_cmd.add_argument("names", nargs="*")
    bundle_cmd.add_argument("--report", action="store_true", help="install and measure each")
    bundle_cmd.set_defaults(run=bundle)
    lock_cmd = commands.add_parser("lock", help="compile every hashed lock from its input")
    lock_cmd.add_argument("--upgrade", action="store_true", help="move every pin to the newest")
    lock_cmd.set_defaults(run=lock)
    deploy_cmd = commands.add_parser("deploy", help="deploy one function (DRY_RUN=1 prints it)")
    deploy_cmd.add_argument("name", nargs="?")
    deploy_cmd.set_defaults(run=deploy)
    commands.add_parser("deploy-hosting", help="firebase deploy --only hosting").set_defaults(
        run=deploy_hosting
    )
    pages_cmd = commands.add_parser("pages", help="stamp partials and modulepreloads into pages")
    pages_cmd.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    pages_cmd.set_defaults(run=pages)
    commands.add_parser(
        "layers", help="each function's import closure and any break of the layer rule"
    ).set_defaults(run=layers)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
