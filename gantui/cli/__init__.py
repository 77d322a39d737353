"""The `gantui` command line. Bad input gets one line on stderr and exit status 2, never a traceback."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from gantui import __version__
from gantui.app.graphics import CHOICES as GRAPHICS
from gantui.cli.launch import NPROC_HELP, nproc_count
from gantui.cli.options import RESUME_OPTIONS, add_train_options
from gantui.engine.errors import UserError

EXIT_USAGE = 2

DESCRIPTION = """Train GANs with PyTorch and watch them learn, live, in the terminal.

With no command, opens the app (runs list, launcher, dashboards, compare). Runs live in folders under --runs-dir
(default ./runs); any run folder, live or finished, can be opened from any terminal."""

EPILOG = """examples:
  gantui train --dataset mnist --arch dcgan28 --epochs 5
  gantui train --dataset pattern1010 --arch pattern-mlp --steps 2000
  gantui train --dataset hdf5 --data celeba.h5 --arch conv --steps 500
  gantui train --nproc 2 --dataset mnist --arch dcgan28 --steps 200   # DDP, 2 processes
  torchrun --nproc-per-node 4 -m gantui train --dataset mnist --arch dcgan64 --device cuda
  gantui runs
  gantui runs gpu1:runs ./runs # HOST:PATH: runs on another machine, over ssh (gantui installed there)
  gantui watch                 # the newest live run
  gantui compare RUN RUN       # curves, samples and configuration side by side
  gantui sample RUN -n 32 --out grid.png
"""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the problem) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{self.prog}: {message}")


def _runs_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs-dir", action="append", metavar="DIR",
                        help="runs folder or HOST:PATH on another machine (repeatable); default ./runs")


def _graphics(parser: argparse.ArgumentParser, default: str = argparse.SUPPRESS) -> None:
    """--graphics before the command or after it; unset after it, the one before (or auto) stands."""
    parser.add_argument("--graphics", choices=GRAPHICS, default=default, help="how the app draws sample images")


QUIET_ENV = "GANTUI_QUIET"  # set (not 0): as --quiet


def _quiet(parser: argparse.ArgumentParser, default: bool | str = argparse.SUPPRESS) -> None:
    parser.add_argument("--quiet", action="store_true", default=default,
                        help=f"alarms notify without ringing the terminal bell (or set {QUIET_ENV}=1)")


def build_parser() -> Parser:
    parser = Parser(prog="gantui", description=DESCRIPTION, epilog=EPILOG,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"gantui {__version__}")
    parser.add_argument("--runs-dir", dest="app_runs_dir", action="append", metavar="DIR",
                        help="runs folder or HOST:PATH on another machine (repeatable) for the app or the "
                             "command; default ./runs")
    _graphics(parser, default="auto")
    _quiet(parser, default=False)
    parser.add_argument("--remote-command", metavar="CMD",
                        help="what runs gantui on remote hosts (default gantui, or the places file's)")
    parser.add_argument("--ssh-option", action="append", metavar="OPT", default=[],
                        help="extra ssh options for remote places, e.g. --ssh-option='-F FILE' (repeatable)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    train = commands.add_parser("train", help="train a GAN, writing a run folder")
    add_train_options(train)
    train.add_argument("--plain", action="store_true", help="plain progress lines even on a terminal")
    train.add_argument("--nproc", type=nproc_count, metavar="N", help=NPROC_HELP)
    train.add_argument("--run-path", help=argparse.SUPPRESS)  # the app names the folder it will watch

    check = commands.add_parser("check", help="the tutorial's pre-flight checks on data and networks")
    add_train_options(check)

    runs = commands.add_parser("runs", help="list runs (of runs folders here or HOST:PATH on other machines)")
    runs.add_argument("places", nargs="*", metavar="PLACE", help="runs folders or HOST:PATH (as --runs-dir)")
    _runs_dir(runs)
    runs.add_argument("--json", action="store_true", help="machine-readable output")

    watch = commands.add_parser("watch", help="open the dashboard on a run (default: the newest live one)")
    watch.add_argument("run", nargs="?", help="run folder or name")
    _runs_dir(watch)
    _graphics(watch)
    _quiet(watch)

    compare = commands.add_parser("compare", help="compare 2 to 8 runs side by side (curves, samples, config)")
    compare.add_argument("runs", nargs="+", metavar="RUN", help="run folders or names")
    _runs_dir(compare)
    _graphics(compare)
    _quiet(compare)

    resume = commands.add_parser("resume", help="continue a run from its last checkpoint")
    resume.add_argument("run", help="run folder or name")
    add_train_options(resume, only=RESUME_OPTIONS)
    _runs_dir(resume)
    resume.add_argument("--plain", action="store_true", help="plain progress lines even on a terminal")
    resume.add_argument("--nproc", type=nproc_count, metavar="N", help=NPROC_HELP)

    sample = commands.add_parser("sample", help="generate a PNG grid from a run's generator")
    sample.add_argument("run")
    sample.add_argument("-n", type=int, default=32, help="number of images (default 32)")
    sample.add_argument("--out", required=True, help="PNG file to write")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--label", type=int, help="class to generate (conditional models)")
    _runs_dir(sample)

    export = commands.add_parser("export", help="write the generator as TorchScript")
    export.add_argument("run")
    export.add_argument("--out", required=True, help="file to write (e.g. generator.pt)")
    _runs_dir(export)

    pack = commands.add_parser("pack-h5", help="pack a folder of images into one HDF5 file")
    pack.add_argument("image_dir")
    pack.add_argument("out")
    pack.add_argument("--size", type=int, default=64, help="square size in pixels (default 64)")

    agent = commands.add_parser(
        "agent", help="serve run folders on stdin/stdout for a remote gantui (started over ssh)",
        description="The far side of a remote place HOST:PATH: another machine's gantui starts it over ssh. "
                    "It serves only the run folders under the PATHs given, reads them, writes control.json "
                    "and starts runs; it never executes anything from a run folder.")
    agent.add_argument("--serve", nargs="+", required=True, metavar="PATH", help="runs folders to serve")

    commands.add_parser("datasets", help="list datasets, one line each")
    commands.add_parser("archs", help="list architectures with parameter counts")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: parse, dispatch, turn UserError into one line and exit status 2."""
    # Idle OpenMP threads spin briefly, then sleep (read when torch loads): torch's long default spin starves
    # training when other processes share the cores; sleeping at once slows small models (BENCHMARKS.md, 2).
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", "1000")
    from gantui.cli import commands

    try:
        args = parse_args(argv)
        handler = {
            None: commands.app, "train": commands.train, "check": commands.check, "runs": commands.runs,
            "watch": commands.watch, "compare": commands.compare, "resume": commands.resume, "sample": commands.sample,
            "export": commands.export, "pack-h5": commands.pack_h5, "datasets": commands.datasets,
            "archs": commands.archs, "agent": commands.agent,
        }[args.command]
        status = handler(args)
    except UserError as error:
        fail(str(error), EXIT_USAGE)
    except OSError as error:  # a fault of the machine, not of the input (disk full, …): still one line
        from gantui.engine.atomic import disk_problem

        fail(disk_problem(error, Path(error.filename or ".")), 1)
    except MemoryError:
        fail("out of memory (try a smaller --batch-size or --image-size)", 1)
    except KeyboardInterrupt:
        print("gantui: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(status or 0)


def fail(message: str, status: int) -> None:
    """Exit with `status` and one line naming the problem: on stderr, or, in a worker of `--nproc`, for the
    launcher to print once for all of them."""
    from gantui.cli.launch import report_error

    if not report_error(one_line(message)):
        print(f"gantui: error: {one_line(message)}", file=sys.stderr)
    sys.exit(status)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line parsed; `gantui --runs-dir DIR COMMAND` serves COMMAND unless it names its own folder."""
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # what --nproc hands to torchrun
    before = args.app_runs_dir
    if before and getattr(args, "runs_dir", "absent") is None:
        if args.command in ("train", "check"):  # a training option: the one folder the run is written to
            if len(before) > 1:
                raise UserError(f"gantui {args.command} writes to one --runs-dir (got {len(before)})")
            args.runs_dir = before[0]
        else:
            args.runs_dir = before
    args.quiet = args.quiet or os.environ.get(QUIET_ENV, "0") not in ("", "0")
    if args.command == "runs" and args.places:
        args.runs_dir = [*args.places, *(args.runs_dir or [])]
    import shlex

    from gantui.engine.places import configure_ssh

    configure_ssh(args.remote_command, [part for option in args.ssh_option for part in shlex.split(option)])
    return args


def one_line(text: str) -> str:
    """`text` as one printable line: line breaks become spaces, other control characters are escaped."""
    text = " ".join(text.split("\n"))
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def runs_places(values: list[str] | None) -> list:
    """The places given, local folders or HOST:PATH (default ./runs); UserError for a file given as a folder."""
    from gantui.engine.config import SETTINGS
    from gantui.engine.places import LocalPlace, open_place

    places = [open_place(v) for v in values or [SETTINGS["runs_dir"].default]]
    for place in places:
        if isinstance(place, LocalPlace) and place.folder.exists() and not place.folder.is_dir():
            raise UserError(f"--runs-dir {place.folder} is a file, not a folder of runs")
    return places


def runs_dirs(values: list[str] | None) -> list[Path]:
    """The runs folders on this machine given (default ./runs); UserError for HOST:PATH or a file."""
    from gantui.engine.places import LocalPlace

    folders = []
    for place in runs_places(values):
        if not isinstance(place, LocalPlace):
            raise UserError(f"{place} is on another machine: this command works on runs here (run it on "
                            f"{place.host}, or copy the run)")
        folders.append(place.folder)
    return folders
