"""torchrun's launcher (torch.distributed.run) as `gantui train --nproc N` starts it: quiet about what gantui says.

    python -m gantui.cli.torchrun --standalone --nproc-per-node N -m gantui train ...

Plain torchrun ends a run stopped by Ctrl-C with its own traceback (`SignalException: Process N got signal: 2`),
and a worker's bad input with a `ChildFailedError` box, though the workers have already said what happened
(stopped with a final checkpoint; one line naming the problem). Here those become exit statuses: 128 + the
signal, or the failed worker's own status (2 for bad input). A worker killed by a signal (the out-of-memory
killer's SIGKILL, say) is the one failure no worker can report, so that one gets a line. torch's elastic log
lines are left out too; set LOGLEVEL (torchrun's own variable, e.g. LOGLEVEL=INFO) to see them.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    from torch.distributed import run
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

    if "LOGLEVEL" not in os.environ:
        quiet = logging.getLogger("torch.distributed")  # its children's records stop here, none reach stderr
        quiet.handlers = [logging.NullHandler()]  # in place of torch's own stderr handler
        quiet.propagate = False
    try:
        run.run(run.parse_args(list(argv)))  # torchrun's main() less its @record, which prints the traceback
    except SignalException as stop:  # the workers got the signal too, and stopped
        return 128 + int(stop.sigval)
    except ChildFailedError as failed:
        rank, failure = failed.get_first_failure()
        if failure.exitcode >= 0:  # the worker said why (one line, or its traceback)
            return failure.exitcode or 1
        print(f"gantui: error: rank {rank} (pid {failure.pid}) was killed by {failure.signal_name()}",
              file=sys.stderr)
        return 128 - failure.exitcode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
