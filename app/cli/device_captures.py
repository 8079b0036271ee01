"""`meterbridge device captures` and `device map`: held pushes, mapped by example, replayed.

device captures [NAME] [--show ID] [--replay] [--discard ID]...
    List the bodies kept for a device (held for mapping, or captured) with their
    problem; --show prints one; --replay runs every held body of NAME through its
    reader with the current options into the journal (twice adds nothing) and
    drops the bodies that now read without a problem; --discard forgets bodies
    (the user's decision: their readings are then never read).
device map NAME --points PATH --id PATH --time PATH --value PATH [--unit PATH]
        [--estimated PATH] [--time-format FMT] [--tz ZONE] [--register] [--quantity Q]
    Store a map-by-example as the device's ``mapping`` option (dotted paths; a
    path is looked up in each point, its enclosing elements, then the body;
    ``--points ''``: the body itself is the list; ``data.sensors.*.samples``:
    every sensor's samples; CSV: column names) and show what each held body gives.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from app.cli import EXIT_OK, UsageError
from app.cli.loading import device_registry, load_home
from app.core.sources.devices import DeviceError, DeviceRegistry

if TYPE_CHECKING:
    from app.core.listener.capture import CaptureStore
    from app.core.listener.commit import PushJob
    from app.core.paths import AppPaths

EXIT_HELD = 1  # --replay left bodies held (their problems are printed)


def register(actions: Any, common: argparse.ArgumentParser) -> None:
    """Add `device captures` and `device map` to the `device` actions."""
    captures = actions.add_parser(
        "captures", parents=[common], help="pushes held for mapping or captured; --replay"
    )
    captures.add_argument("name", nargs="?")
    captures.add_argument("--show", type=int, metavar="ID", help="print one kept body")
    captures.add_argument(
        "--replay", action="store_true", help="read every held body of NAME into the journal"
    )
    captures.add_argument(
        "--discard", type=int, action="append", default=[], metavar="ID", help="forget a body"
    )
    captures.set_defaults(func=run_captures)
    mapping = actions.add_parser(
        "map", parents=[common], help="map a device's pushes by example (dotted paths)"
    )
    mapping.add_argument("name")
    mapping.add_argument(
        "--points", required=True, metavar="PATH", help="'' = the body is the list"
    )
    for flag in ("id", "time", "value"):
        mapping.add_argument(f"--{flag}", required=True, metavar="PATH")
    mapping.add_argument("--unit", metavar="PATH")
    mapping.add_argument("--estimated", metavar="PATH", help="true/1/E marks an estimate")
    mapping.add_argument("--time-format", metavar="FMT", help="auto (default) or e.g. %%d/%%m/%%Y")
    mapping.add_argument("--register", action="store_true", help="values are cumulative registers")
    mapping.add_argument("--quantity", metavar="Q", help="quantity without a unit path (kWh)")
    mapping.set_defaults(func=run_map)


def _open(args: argparse.Namespace) -> tuple[AppPaths, Any, DeviceRegistry, CaptureStore]:
    from app.core.listener.capture import CaptureStore

    paths, settings = load_home(args)
    devices = device_registry(paths)
    captures = CaptureStore(
        paths.data_dir / "captures.sqlite3",
        max_count=settings.listener.capture_max_count,
        max_bytes=settings.listener.capture_max_bytes,
    )
    return paths, settings, devices, captures


def run_captures(args: argparse.Namespace) -> int:
    """`device captures [NAME] [--show ID] [--replay]`."""
    paths, settings, devices, store = _open(args)
    try:
        if args.show is not None:
            return _show(store, args.show)
        if args.discard:
            return _discard(store, args.discard)
        if args.replay:
            if not args.name:
                raise UsageError("--replay needs the device NAME")
            return _replay(args, paths, settings, devices, store)
        _list(store, args.name)
    finally:
        store.close()
    return EXIT_OK


def _show(store: CaptureStore, capture_id: int) -> int:
    capture = store.get(capture_id)
    if capture is None:
        raise UsageError(f"no kept body {capture_id}")
    info = capture.info
    print(f"# {info.status} body {info.id} of {info.device}, {info.received_at}, {info.name}")
    print(f"# {info.content_type}, {info.size} bytes, fields {info.fields}")
    if info.headers:
        print(f"# headers {info.headers}")
    print(f"# problem: {info.reason}")
    print(capture.text())
    return EXIT_OK


def _discard(store: CaptureStore, ids: list[int]) -> int:
    missing = [i for i in ids if store.get(i) is None]
    if missing:
        raise UsageError(f"no kept body {missing[0]} (see `meterbridge device captures`)")
    for capture_id in ids:
        store.delete(capture_id)
        print(f"body {capture_id} discarded")
    return EXIT_OK


def _list(store: CaptureStore, name: str | None) -> None:
    infos = store.list(name)
    if not infos:
        print("nothing held or captured" + (f" for {name}" if name else ""))
    for info in infos:
        print(
            f"{info.id}\t{info.status}\t{info.received_at}\t{info.device}\t{info.name}\t"
            f"{info.size} B"
        )
        print(f"\t{info.reason[:300]}")
    held = sum(1 for info in infos if info.held)
    if held and name:
        print(
            f"{held} held: map them (meterbridge device map {name} …, or the app's Map held "
            f"pushes…), then meterbridge device captures {name} --replay"
        )


def _replay(
    args: argparse.Namespace,
    paths: AppPaths,
    settings: Any,
    devices: DeviceRegistry,
    store: CaptureStore,
) -> int:
    from app.core.journal.store import Journal
    from app.core.listener.commit import PushCommitter
    from app.core.listener.push_intake import PushIntake
    from app.core.listener.replay import replay_held
    from app.core.sources.register_modes import RegisterModes
    from app.core.sources.register_store import RegisterStore

    device = _device(devices, args.name)
    journal = Journal.from_settings(paths.journal_file, settings.journal)
    registers = RegisterStore(paths.data_dir / "registers.sqlite3")
    committer = PushCommitter(journal, registers)
    mapping_file = getattr(args, "mapping", None) or settings.mapping_file
    committer.raw_sources = RegisterModes(lambda: mapping_file)

    def commit(job: PushJob) -> None:
        committer.commit_group([job])

    try:
        report = replay_held(device, store, PushIntake(devices, store), commit)
    finally:
        registers.close()
        journal.close()
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.journal.items()) if v)
    print(
        f"{device.name}: {len(report.dropped)} held bodies read and dropped, "
        f"{report.readings} readings journaled ({counts or 'nothing new'})"
    )
    for capture_id, problem in report.still_held.items():
        print(f"  still held {capture_id}: {problem[:300]}")
    return EXIT_HELD if report.still_held else EXIT_OK


def _device(devices: DeviceRegistry, name: str) -> Any:
    try:
        return devices.get(name)
    except DeviceError as exc:
        raise UsageError(str(exc)) from None


def mapping_of(args: argparse.Namespace) -> dict[str, Any]:
    """The ``mapping`` option the `device map` arguments describe."""
    mapping: dict[str, Any] = {
        "points": args.points,
        "id": args.id,
        "time": args.time,
        "value": args.value,
    }
    optional = {
        "unit": args.unit,
        "estimated": args.estimated,
        "time_format": args.time_format,
        "tz": args.tz,
        "quantity": args.quantity,
    }
    mapping.update({k: v for k, v in optional.items() if v})
    if args.register:
        mapping["register"] = True
    return mapping


def run_map(args: argparse.Namespace) -> int:
    """`device map NAME …`: store the mapping, show what each held body gives."""
    from app.core.listener.push_intake import PushIntake
    from app.core.listener.replay import preview_held

    _, _, devices, store = _open(args)
    try:
        try:
            device = devices.update(args.name, options={"mapping": mapping_of(args)})
        except DeviceError as exc:
            raise UsageError(str(exc)) from None
        print(f"device {device.name}: pushes are read by the mapping {device.options['mapping']}")
        results = preview_held(device, store, PushIntake(devices, store), {})
        for result in results:
            count = 0 if result.readings is None else len(result.readings)
            state = "reads fully" if result.problem is None else f"problem: {result.problem}"
            print(f"  held {result.capture.id}: {count} readings; {state}"[:400])
        if results:
            print(f"Send them: meterbridge device captures {device.name} --replay")
    finally:
        store.close()
    return EXIT_OK
