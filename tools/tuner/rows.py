# SPDX-License-Identifier: Apache-2.0
"""The kernel rows of a Ninja build and how to run their generators (tools/tune,
tools/autoschedule-try)."""
import pathlib
import platform
import re
from dataclasses import dataclass

# Debian's libhalide14-0-dev puts the autoscheduler plugins under the multiarch folder.
PLUGINS = pathlib.Path(f"/usr/lib/{platform.machine()}-linux-gnu/halide14")
# cmake/SeglossHalide.cmake's SEGLOSS_KERNEL_FEATURES, and no runtime: candidates use the one
# of the library (or of the timing driver) they are linked with.
FEATURES = "user_context-no_bounds_query-large_buffers-no_runtime"


@dataclass
class Row:
    generator_bin: str  # the family's generator executable
    name: str           # the row's library and function name (cmake/kernels.cmake)
    generator: str      # the generator's registered name
    params: str         # its GeneratorParams, as the build passes them


def rows(build_dir):
    """Every CPU row of the build's kernel table (GPU twins, *_cuda and *_opencl, left out)."""
    ninja = (pathlib.Path(build_dir) / "build.ninja").read_text()
    rule = re.compile(r"\n  COMMAND = cd [^&]*&& (\S+_generators) -n (\S+) -d 0 -g (\S+) -f \S+ -e \S+ -o \. "
                      r"target=\S+(.*)\n")
    return [Row(b, n, g, p.strip()) for b, n, g, p in rule.findall(ninja) if not n.endswith(("_cuda", "_opencl"))]


def generate_command(row, out_dir, target, scheduler=None, machine_params="2,1000000,40"):
    """The command that compiles `row` for one Halide target (no features) into out_dir/k.o,
    with its own schedule or, with `scheduler`, one of Halide 14's autoschedulers."""
    auto = ""
    if scheduler:
        plugin = PLUGINS / f"libautoschedule_{scheduler.lower()}.so"
        auto = f"-p {plugin} -s {scheduler} auto_schedule=true machine_params={machine_params} "
    return (f"{row.generator_bin} -n k -d 0 -g {row.generator} -f {row.name} -e object -o {out_dir} "
            f"{auto}target={target}-{FEATURES} {row.params}")
