"""Checking a person's function before a run: can a fresh process import it by name?

Every mode runs the function by importing `MODULE:FUNCTION` in whichever
process, subinterpreter or interpreter runs the task, so it must be a plain
function defined at module level in an importable module. The check runs in
a short-lived process of the chosen interpreter (the one the run will use),
so an import that crashes, hangs or prints cannot touch the caller, and a
refusal is one line that says why and what to do; an exception raised by the
person's own code carries its traceback, cut down to their own frames.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lab.core.errors import InvalidSettings
from lab.core.interpreters import Interpreter
from lab.core.procs import child_env, end_process_group, start_child

CHECK_TIMEOUT_S = 30.0
LAB_FOLDER = Path(__file__).resolve().parents[1]  # the lab's own frames are cut from a traceback

# Runs in the chosen interpreter with the lab on its path; writes its answer to the file in argv[2].
CHECK_SOURCE = r"""
import json, sys, traceback
target, answer_path, lab_folder = sys.argv[1], sys.argv[2], sys.argv[3]

def answer(problem=None, trace=None):
    with open(answer_path, "w", encoding="utf-8") as stream:
        json.dump({"problem": problem, "traceback": trace}, stream)

def own_frames(error):
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if "importlib" not in frame.filename and not frame.filename.startswith(lab_folder)]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(error), error)
    return "".join(lines).rstrip()

from lab.engine.workloads import load_function, split_target
try:
    module, name = split_target(target)
except ValueError as error:
    answer(str(error))
    raise SystemExit
if module == "__main__":
    answer("a function in __main__ cannot be imported by a fresh process: put it in a module file")
    raise SystemExit
try:
    function = load_function(target)
except SyntaxError as error:
    answer(f"{module} has a syntax error on line {error.lineno}: {error.msg}", own_frames(error))
except AttributeError:
    answer(f"{module} has no function named {name!r}")
except TypeError as error:
    answer(str(error))
except BaseException as error:
    answer(f"importing {module} raised {type(error).__name__}: {error}".splitlines()[0], own_frames(error))
else:
    if getattr(function, "__name__", "") == "<lambda>":
        answer(f"{target} is a lambda: define it with def at module level so a fresh process can import it")
    elif "<locals>" in getattr(function, "__qualname__", ""):
        answer(
            f"{target} is defined inside another function (a closure): define it at module level "
            "so a fresh process can import it"
        )
    else:
        answer()
"""


@dataclass(frozen=True)
class FunctionProblem:
    """Why a function cannot run, and the traceback of the person's own code when it raised."""

    message: str
    traceback: str | None = None


class FunctionRefused(InvalidSettings):
    """A function the lab cannot run; `traceback` holds the person's own frames, when there are any."""

    def __init__(self, problem: FunctionProblem) -> None:
        super().__init__(problem.message)
        self.traceback = problem.traceback


def find_problem(
    target: str, interpreter: Interpreter, timeout_s: float = CHECK_TIMEOUT_S
) -> FunctionProblem | None:
    """None when `interpreter` can import and call `target` by name, else why not."""
    with tempfile.TemporaryDirectory(prefix="gil-lab-check-") as folder:
        answer = Path(folder) / "answer.json"
        proc = start_child(
            [interpreter.path, "-c", CHECK_SOURCE, target, str(answer), str(LAB_FOLDER)],
            stderr=subprocess.DEVNULL,
            env=child_env(),
        )
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return FunctionProblem(
                f"importing {target.rpartition(':')[0]} took longer than {timeout_s:g} s; "
                "move slow work out of the module's top level"
            )
        finally:
            end_process_group(proc)
        try:
            data = json.loads(answer.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return FunctionProblem(
                f"the check of {target} ended without an answer (exit status {proc.returncode}): "
                "the module may exit or crash when imported"
            )
    if data.get("problem"):
        return FunctionProblem(str(data["problem"]), data.get("traceback"))
    return None


def check_function(target: str, interpreter: Interpreter) -> None:
    """Raise FunctionRefused (an InvalidSettings: CLI exit 2) unless the function can run."""
    problem = find_problem(target, interpreter)
    if problem is not None:
        raise FunctionRefused(problem)
