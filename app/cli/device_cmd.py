"""`meterbridge device …` (push devices) and `meterbridge serve` (listener + delivery).

device add NAME --connector episensor|aculink810|acurev2100|readings [--tz ZONE] [--set KEY=VALUE]
    Register a device; prints its push URL and token (shown once without a keyring).
device set NAME [--set KEY=VALUE]... [--unset KEY]... [--tz ZONE] [--expected-interval S]
    Change a device's reader options, zone or expected push interval (token kept).
device show NAME
    The device, its statistics and every reader option with its value or default.
device check
    Read devices.json as the listener does: name each device it cannot use (a time zone
    this PC does not know …) and a file that is not JSON (line, column); exit 2 if any.
device list | remove NAME | token NAME [--new]
    `add`, `list` and `show` print the running listener's real URL, and say when only
    this computer can reach it.
device captures [NAME] [--show ID] [--replay] | map NAME --points P --id P --time P --value P
    Pushes held for mapping, mapped by example and replayed (see device_captures).
serve [--listen HOST:PORT] [--lan] [--no-deliver] [--ecap-url URL] [--api A] [--overwrite]
    Run the push listener, delivery to EnergyCAP and the scheduler until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from app.cli import EXIT_ERROR, EXIT_OK, UsageError
from app.cli.journal.deliver import add_connection_options
from app.cli.loading import device_registry, load_home, report_device_problems
from app.core.listener.address import PushAddress
from app.core.sources.devices import PUSH_CONNECTORS, Device, DeviceError, DeviceRegistry
from connectors.push.options import shown as _shown

if TYPE_CHECKING:
    from app.core.paths import AppPaths
    from app.core.settings import Settings


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add the `device` and `serve` commands."""
    device = subparsers.add_parser("device", help="push devices: add, list, remove, captures")
    actions = device.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", parents=[common], help="register a device, print URL and token")
    add.add_argument("name")
    add.add_argument("--connector", required=True, choices=PUSH_CONNECTORS)
    _option_arguments(add)
    add.set_defaults(func=run_add)
    change = actions.add_parser(
        "set", parents=[common], help="change reader options, zone or expected interval"
    )
    change.add_argument("name")
    _option_arguments(change)
    change.add_argument(
        "--unset", action="append", default=[], metavar="KEY", help="back to the default"
    )
    change.add_argument(
        "--expected-interval",
        type=int,
        metavar="SECONDS",
        help="pushes expected every … (0: learn)",
    )
    change.set_defaults(func=run_set)
    show = actions.add_parser("show", parents=[common], help="a device and all its options")
    show.add_argument("name")
    show.set_defaults(func=run_show)
    actions.add_parser("list", parents=[common], help="devices and what was seen").set_defaults(
        func=run_list
    )
    actions.add_parser(
        "check", parents=[common], help="name what is wrong in devices.json (exit 2 if any)"
    ).set_defaults(func=run_check)
    remove = actions.add_parser("remove", parents=[common], help="forget a device and its token")
    remove.add_argument("name")
    remove.set_defaults(func=run_remove)
    token = actions.add_parser("token", parents=[common], help="show (keyring) or renew a token")
    token.add_argument("name")
    token.add_argument("--new", action="store_true", help="make a new token (the old one stops)")
    token.set_defaults(func=run_token)
    from app.cli import device_captures  # `captures` (held pushes, --replay) and `map`

    device_captures.register(actions, common)
    serve = subparsers.add_parser(
        "serve", parents=[common], help="run listener, delivery and scheduler until stopped"
    )
    serve.add_argument("--listen", metavar="HOST:PORT", help="bind address (default 127.0.0.1)")
    serve.add_argument("--lan", action="store_true", help="allow a non-loopback bind address")
    serve.add_argument("--no-deliver", action="store_true", help="journal only, do not deliver")
    add_connection_options(serve)
    serve.set_defaults(func=_run_serve)


def _option_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        "--option",
        dest="set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="reader option (VALUE is JSON when it parses, else text); see `device show`",
    )


def _run_serve(args: argparse.Namespace) -> int:
    from app.cli.serve_cmd import run_serve

    return run_serve(args)


def push_address(paths: AppPaths, settings: Settings) -> PushAddress:
    """Where devices reach the listener: the running one's real address, else the settings'."""
    from app.core.listener import address

    return address.push_address(paths.data_dir, settings.listener)


def _options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {pair!r}: write KEY=VALUE")
        try:
            options[key.strip()] = json.loads(text)
        except ValueError:
            options[key.strip()] = text
    return options


def run_add(args: argparse.Namespace) -> int:
    """`device add`: register and print URL and token."""
    paths, settings = load_home(args)
    devices = device_registry(paths)
    try:
        token = devices.add(args.name, args.connector, args.tz or "UTC", **_options(args.set))
    except DeviceError as exc:
        raise UsageError(str(exc)) from None
    print(f"device {args.name} ({args.connector}, times in {args.tz or 'UTC'}) registered")
    where = push_address(paths, settings)
    print(f"push URL: {where.url(args.name)}")
    print(where.reach())
    print(f"token:    {token}")
    if devices.stored_token(args.name) is None:
        print("No OS keyring: the token is shown only now (only its hash is kept).")
    print("Send it as 'Authorization: Bearer <token>', as the Basic-auth password, or ?token=")
    return EXIT_OK


def run_set(args: argparse.Namespace) -> int:
    """`device set NAME …`: change options, zone or expected interval."""
    paths, _ = load_home(args)
    options = _options(args.set)
    if not (options or args.unset or args.tz or args.expected_interval is not None):
        raise UsageError(
            "nothing to change: give --set KEY=VALUE, --unset KEY, --tz or "
            "--expected-interval (`device show NAME` lists the options)"
        )
    try:
        device = device_registry(paths).update(
            args.name,
            tz=args.tz,
            options=options,
            unset=tuple(args.unset),
            expected_interval_s=args.expected_interval,
        )
    except DeviceError as exc:
        raise UsageError(str(exc)) from None
    changed = [
        *(f"{k}={_shown(v)}" for k, v in options.items()),
        *(f"{k} unset" for k in args.unset),
    ]
    if args.tz:
        changed.append(f"tz={device.tz}")
    if args.expected_interval is not None:
        changed.append(f"expected interval {device.expected_interval_s} s")
    print(f"device {device.name} changed: {', '.join(changed)}")
    if device.problem:
        print(f"meterbridge: device {device.name} is still refused: {device.problem}")
    print("A running listener uses the change within a second; the token is unchanged.")
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    """`device show NAME`: definition, statistics and every reader option."""
    from app.core.push_readers import reader_option_specs

    paths, settings = load_home(args)
    devices = device_registry(paths)
    try:
        device = devices.get(args.name)
    except DeviceError as exc:
        raise UsageError(str(exc)) from None
    _print_device(devices, device, push_address(paths, settings))
    interval = device.expected_interval_s
    print(
        f"  created {device.created or 'unknown'}; expected interval: "
        f"{f'{interval} s' if interval else 'learned from the pushes'}"
    )
    specs = reader_option_specs(device.connector)
    print(
        f"options (change with `meterbridge device set {device.name} --set KEY=VALUE`, "
        "`--unset KEY`):"
    )
    width = max((len(k) for k in [*specs, *device.options]), default=0)
    for key, spec in specs.items():
        value = device.options.get(key, spec.default)
        mark = "" if key in device.options else "  (default)"
        print(f"  {key:<{width}} = {_shown(value)}{mark}")
        print(f"  {'':<{width}}   {spec.help}")
    for key in sorted(set(device.options) - set(specs)):
        print(
            f"  {key:<{width}} = {_shown(device.options[key])}  (not an option of this "
            f"reader: remove with --unset {key})"
        )
    return EXIT_OK


def _print_device(devices: DeviceRegistry, device: Device, where: PushAddress) -> None:
    stats = devices.stats(device.name)
    print(f"{device.name}: {device.connector}, tz {device.tz}, {where.url(device.name)}")
    if device.problem:
        print(f"  PUSHES REFUSED, devices.json is wrong: {device.problem}")
    print(
        f"  last seen {stats.last_seen or 'never'}; {stats.readings_received} readings in "
        f"{stats.requests} pushes; next expected {stats.next_expected or 'unknown'}"
    )
    if stats.last_error:
        print(f"  last error ({stats.last_error_at}): {stats.last_error}")
    if stats.meters:
        print(f"  meters: {', '.join(stats.meters)}")
    if stats.skipped_params:
        shown = ", ".join(stats.skipped_params[:30])
        more = len(stats.skipped_params) - 30
        how = "key_table={...}" if device.connector == "acurev2100" else "params=[...]"
        print(
            f"  not delivered ({len(stats.skipped_params)}; deliver with --set {how}): "
            f"{shown}{f' … and {more} more' if more > 0 else ''}"
        )


def run_list(args: argparse.Namespace) -> int:
    """`device list`: definitions and statistics."""
    paths, settings = load_home(args)
    devices = device_registry(paths)
    report_device_problems(devices)
    if not devices.all():
        print("no devices; add one with `meterbridge device add NAME --connector …`")
    where = push_address(paths, settings)
    for device in devices.all():
        _print_device(devices, device, where)
        if device.options:
            print(f"  options: {', '.join(f'{k}={_shown(v)}' for k, v in device.options.items())}")
    if devices.all():
        print(where.reach())
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    """`device check`: what the listener would refuse in devices.json; exit 2 if anything."""
    paths, _ = load_home(args)
    devices = device_registry(paths)
    report_device_problems(devices)
    usable = [d.name for d in devices.all() if not d.problem]
    print(f"{devices.path}: {len(usable)} device(s) usable: {', '.join(usable) or 'none'}")
    return EXIT_ERROR if devices.problems else EXIT_OK


def run_remove(args: argparse.Namespace) -> int:
    """`device remove NAME`."""
    paths, _ = load_home(args)
    try:
        device_registry(paths).remove(args.name)
    except DeviceError as exc:
        raise UsageError(str(exc)) from None
    print(f"device {args.name} removed; its token no longer works")
    return EXIT_OK


def run_token(args: argparse.Namespace) -> int:
    """`device token NAME [--new]`."""
    paths, _ = load_home(args)
    devices = device_registry(paths)
    try:
        token = devices.new_token(args.name) if args.new else devices.stored_token(args.name)
    except DeviceError as exc:
        raise UsageError(str(exc)) from None
    if token is None:
        raise UsageError("the token is not kept (no OS keyring); make a new one with --new")
    print(token)
    return EXIT_OK
