"""One function per `gantui` command; each returns the exit status."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gantui.cli import runs_dirs, runs_places
from gantui.engine.errors import UserError


def config_from_args(args: argparse.Namespace):
    """The resolved TrainConfig of `gantui train` / `check`: --config FILE with the flags over it, or the flags."""
    from gantui.cli.options import given_options
    from gantui.engine.config import override, read_config, resolve_config

    options = given_options(args)
    if args.config is None:
        return resolve_config(args.dataset, args.arch, **options)
    config = read_config(Path(args.config))
    if args.dataset not in (None, config.dataset) or args.arch not in (None, config.arch):
        raise UserError("--dataset and --arch come from --config; start a new configuration without it")
    return override(config, **options)


def _run_training(prepared, plain: bool) -> int:
    """Train with a progress display; Ctrl-C / SIGTERM stop gracefully with a final checkpoint.

    Under torchrun only rank 0 shows progress, and a second signal does not interrupt: torchrun passes the
    user's Ctrl-C on once more, and kills what has not stopped 30 s later."""
    from gantui.cli import launch
    from gantui.cli.progress import progress_sink
    from gantui.engine.control import RunControl
    from gantui.engine.exchange import SharedControl
    from gantui.engine.trainer import TrainingFailed, train

    world = prepared.world
    control = RunControl(prepared.path if world.is_main else None)
    if world.is_distributed:
        control = SharedControl(control, world)

    def stop(signum, frame) -> None:
        if control.stop_requested and not world.is_distributed:  # a second Ctrl-C: the user really wants out
            raise KeyboardInterrupt
        control.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    if hasattr(signal, "SIGHUP"):  # a dropped SSH session must not kill the run
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    console = Console(stderr=True, quiet=not world.is_main)
    console.print(f"run folder: [bold]{prepared.path}[/]")
    try:
        state = train(prepared, [progress_sink(plain or None)] if world.is_main else [], control)
    except TrainingFailed as error:
        console.print(f"[red]failed[/]: {escape(str(error))}")  # gloo's messages hold [brackets]
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.print(f"{state}: {prepared.path}")
    if world.is_main:
        launch.report_state(str(state))
    return 0 if state in launch.CLEAN_ENDS else 1


def train(args: argparse.Namespace) -> int:
    from gantui.cli import launch
    from gantui.engine.distributed import joined
    from gantui.engine.prepare import prepare_run

    config = config_from_args(args)
    if launch.wants_launch(args.nproc):
        launch.check_nproc(args.nproc, config.device, config.batch_size)
        return launch.torchrun(args.nproc, args.argv)
    with joined(config.device) as world:  # a world of one without torchrun
        prepared = prepare_run(config, Path(args.run_path) if args.run_path else None, world)
        return _run_training(prepared, args.plain)


def resume(args: argparse.Namespace) -> int:
    from gantui.cli import launch
    from gantui.engine.config import read_config
    from gantui.engine.distributed import joined
    from gantui.engine.prepare import prepare_resume
    from gantui.engine.run.layout import RunLayout

    path = find_run(args.run, args.runs_dir)
    config = read_config(RunLayout(path).config)
    device = args.device or config.device
    if launch.wants_launch(args.nproc):
        launch.check_nproc(args.nproc, device, config.batch_size)
        return launch.torchrun(args.nproc, args.argv)
    with joined(device) as world:
        prepared = prepare_resume(path, steps=args.steps, epochs=args.epochs, device=args.device, world=world)
        return _run_training(prepared, args.plain)


def check(args: argparse.Namespace) -> int:
    from gantui.engine.check import run_checks

    console = Console()
    passed = True
    for result in run_checks(config_from_args(args)):
        mark = "[green]ok[/]  " if result.passed else "[red]FAIL[/]"
        console.print(f"{mark} {result.name}: {result.detail}")
        passed &= result.passed
    return 0 if passed else 1


def find_run(ref: str, dirs: list[str] | None) -> Path:
    from gantui.engine.run.reader import resolve_run

    path = resolve_run(ref, runs_dirs(dirs))
    if path is None:
        raise UserError(f"no run folder matches {ref!r} (looked in {', '.join(map(str, runs_dirs(dirs)))})")
    return path


def find_any_run(ref: str, dirs: list[str] | None) -> Path:
    """A run here or `HOST:RUNS/RUN` on another machine (its local mirror's path); UserError when none matches."""
    from gantui.engine.places import open_place
    from gantui.engine.remote.place import RemoteSpec, split_run

    place_spec, name = split_run(ref)
    if isinstance(place_spec, RemoteSpec):
        place = open_place(str(place_spec))
        folders = place.run_folders()
        if place.problem:
            raise UserError(place.problem)
        match = [path for path in folders if path.name == name]
        if not match:
            raise UserError(f"no run {name!r} in {place_spec}")
        return match[0]
    places = runs_places(dirs)
    for place in places:
        if place.host is not None:
            match = [path for path in place.run_folders() if path.name == ref]
            if match:
                return match[0]
    return find_run(ref, [str(place) for place in places if place.host is None] or None)


def list_places(places: list) -> tuple[list, list[str]]:
    """Every run of `places` newest first, and one line for each place that could not be read."""
    from gantui.engine.run.reader import newest_first, read_run

    found, problems = [], []
    for place in places:
        folders = place.run_folders()
        if place.problem:
            problems.append(f"{place}: {place.problem}")
        found += [(place, read_run(path)) for path in folders]
    order = {id(run): place for place, run in found}
    return [(order[id(run)], run) for run in newest_first(run for _, run in found)], problems


def runs(args: argparse.Namespace) -> int:
    import sys

    places = runs_places(args.runs_dir)
    listed, problems = list_places(places)
    for problem in problems:
        print(f"gantui: {problem}", file=sys.stderr)
    status = 1 if problems else 0
    found = [run for _, run in listed]
    if args.json:
        rows = [{"place": str(place), "host": place.host,
                 "path": f"{place}/{run.name}" if place.host else str(run.path), "name": run.name,
                 "state": run.state, "dataset": run.dataset,
                 "arch": run.arch, "loss": run.config.get("loss"), "step": run.step,
                 "total_steps": run.total_steps, "loss_d": run.status.get("loss_d"),
                 "loss_g": run.status.get("loss_g"), "samples_per_s": run.status.get("samples_per_s"),
                 "device": run.status.get("device"), "world_size": run.world_size, "nodes": run.nodes,
                 "started": run.started} for place, run in listed]
        print(json.dumps(rows, indent=2))
        return status
    if not found:
        Console().print(f"no runs in {', '.join(map(str, places))}")
        return status
    distributed = any(run.world_size > 1 for run in found)  # the column only where some run has several
    table = Table("run", "state", "dataset", "arch", "loss", "step", "loss_d", "loss_g", "samples/s",
                  *(("processes",) if distributed else ()), "age")
    for place, run in listed:
        name = f"{place.host}:{run.name}" if place.host else run.name
        table.add_row(name, run.state, run.dataset, run.arch, str(run.config.get("loss", "")),
                      f"{run.step}/{run.total_steps}", _fmt(run.status.get("loss_d")),
                      _fmt(run.status.get("loss_g")), _fmt(run.status.get("samples_per_s"), "{:,.0f}"),
                      *((str(run.world_size),) if distributed else ()), _age(run.started))
    console = Console()
    if not console.is_terminal:  # piped: don't squeeze the table into 80 columns
        console = Console(width=200)
    console.print(table)
    return status


def _fmt(value, pattern: str = "{:.3f}") -> str:
    return pattern.format(value) if isinstance(value, (int, float)) else ""


def _age(started: float) -> str:
    seconds = max(0, time.time() - started)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def app(args: argparse.Namespace) -> int:
    from gantui.app.app import run_app
    from gantui.engine.remote.settings import remember_places, remembered_places

    given = args.app_runs_dir
    if given:  # the remote places given are remembered: a bare `gantui` lists them again
        with contextlib.suppress(OSError):  # a read-only config folder must not keep the app closed
            remember_places([str(place) for place in runs_places(given) if place.host is not None])
    else:
        from gantui.engine.config import SETTINGS

        given = [SETTINGS["runs_dir"].default, *remembered_places()]
    return run_app(runs_places(given), graphics=args.graphics, quiet=args.quiet)


def watch(args: argparse.Namespace) -> int:
    from gantui.app.app import run_app

    places = runs_places(args.runs_dir)
    if args.run:
        path = find_any_run(args.run, args.runs_dir)
    else:
        live = [run for _, run in list_places(places)[0] if run.is_live]
        if not live:
            raise UserError(f"no live run in {', '.join(map(str, places))}; name one: gantui watch RUN")
        path = live[0].path
    return run_app(places, watch=path, graphics=args.graphics, quiet=args.quiet)


COMPARE_RUNS = (2, 8)


def compare(args: argparse.Namespace) -> int:
    from gantui.app.app import run_app

    low, high = COMPARE_RUNS
    if not low <= len(args.runs) <= high:
        raise UserError(f"compare takes {low} to {high} runs (got {len(args.runs)})")
    paths = [find_any_run(ref, args.runs_dir) for ref in args.runs]
    repeated = sorted({p.name for p in paths if paths.count(p) > 1})
    if repeated:
        raise UserError(f"the same run twice: {', '.join(repeated)}")
    return run_app(runs_places(args.runs_dir), graphics=args.graphics, compare=paths, quiet=args.quiet)


MAX_SAMPLES = 4096  # pictures in one `gantui sample` grid


def sample(args: argparse.Namespace) -> int:
    from gantui.engine.atomic import output_file
    from gantui.engine.config import SETTINGS
    from gantui.engine.generate import load_generator, save_sample_grid

    if not 1 <= args.n <= MAX_SAMPLES:
        raise UserError(f"-n must be from 1 to {MAX_SAMPLES} (got {args.n})")
    SETTINGS["seed"].check(args.seed)
    output_file(Path(args.out))
    loaded = load_generator(find_run(args.run, args.runs_dir))
    out = save_sample_grid(loaded, args.n, Path(args.out), seed=args.seed, label=args.label)
    Console().print(f"wrote {args.n} samples to {out}")
    return 0


def export(args: argparse.Namespace) -> int:
    from gantui.engine.atomic import output_file
    from gantui.engine.export import export_generator
    from gantui.engine.generate import load_generator

    out = output_file(Path(args.out))
    loaded = load_generator(find_run(args.run, args.runs_dir))
    out = export_generator(loaded.generator, out)
    Console().print(f"wrote TorchScript generator to {out} (load with torch.jit.load)")
    return 0


def pack_h5(args: argparse.Namespace) -> int:
    from gantui.engine.packh5 import pack_h5 as pack

    count = pack(Path(args.image_dir), Path(args.out), size=args.size)
    Console().print(f"packed {count} images into {args.out}")
    return 0


def datasets(args: argparse.Namespace) -> int:
    from gantui.engine.data import DATASETS

    for spec in DATASETS.values():
        needs = " (needs --data)" if spec.needs_path else ""
        print(f"{spec.name:<14} {spec.description}{needs}")
    return 0


def archs(args: argparse.Namespace) -> int:
    """Each architecture with its parameter counts on its tutorial's data."""
    from gantui.engine.data import DATASETS
    from gantui.engine.models import ARCHS, build_models, count_parameters
    from gantui.engine.models.fit import fit

    for spec in ARCHS.values():
        fitted = fit(spec, DATASETS[spec.default_dataset])
        counts = ""
        if fitted.usable and fitted.info is not None:
            generator, discriminator = build_models(spec.name, fitted.info, spec.defaults.latent_dim)
            counts = f"G {count_parameters(generator):>10,}  D {count_parameters(discriminator):>10,}"
        print(f"{spec.name:<12} {counts:<28} {spec.description}")
    return 0


def agent(args: argparse.Namespace) -> int:
    from gantui.engine.remote.agent import main

    return main(args.serve)
