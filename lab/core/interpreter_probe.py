"""What one Python says about itself: run as `python -E -s -S -c <this file's text>`.

`lab.core.interpreters` runs this text under every candidate interpreter, each
in its own short-lived process, and reads the lines it prints. It must parse
and run under any Python a machine may hold, down to 2.7, so that a Python too
old for the lab is reported as "too old" rather than as a crash: hence no
f-strings, no annotations (type comments only), no keyword-only arguments.

Importing this module has no effect (the parent reads `ANSWER_PREFIX`); the
stdlib imports live in the functions, after `main` has cleaned `sys.path`.
The answer comes as separate lines, cheapest first, each flushed at once: if a
later check crashes the process (creating a subinterpreter is young code), the
lines already printed still say what the Python is.
"""

import sys

ANSWER_PREFIX = "gil-lab-probe "


def answer(fields):  # type: (dict[str, object]) -> None
    """Print one line of the answer and flush it, so it survives a crash that follows."""
    import json

    sys.stdout.write(ANSWER_PREFIX + json.dumps(fields) + "\n")
    sys.stdout.flush()


def gil_enabled_at_start():  # type: () -> bool
    """`sys._is_gil_enabled` exists since 3.13; every older CPython always has the GIL."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def default_start_method():  # type: () -> str
    import multiprocessing

    return str(multiprocessing.get_start_method())


def own_gil_subinterpreters():  # type: () -> str | None
    """The module that creates subinterpreters with their own GIL, found by creating one.

    Per-interpreter GILs exist since CPython 3.12: `_xxsubinterpreters` there,
    `_interpreters` in 3.13 and the public `concurrent.interpreters` since 3.14.
    (3.8-3.11 ship `_xxsubinterpreters` too, but all its interpreters share one GIL.)
    """
    import importlib
    import platform

    if platform.python_implementation() != "CPython" or sys.version_info < (3, 12):
        return None
    for name in ("concurrent.interpreters", "_interpreters", "_xxsubinterpreters"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if name == "concurrent.interpreters":
            interpreter = module.create()
            try:
                getattr(interpreter, "exec")("pass")  # noqa: B009 - `exec` is a keyword in Python 2
            finally:
                interpreter.close()
        elif name == "_interpreters":
            ident = module.create("isolated")
            try:
                failure = getattr(module, "exec")(ident, "pass")  # noqa: B009
            finally:
                module.destroy(ident)
            if failure is not None:
                return None
        else:
            ident = module.create(isolated=True)
            try:
                module.run_string(ident, "pass")
            finally:
                module.destroy(ident)
        return name
    return None


def main():  # type: () -> None
    # `-c` puts the working folder first on sys.path: a stray json.py there must not answer for the stdlib.
    sys.path[:] = [folder for folder in sys.path if folder not in ("", ".")]
    import platform
    import sysconfig

    answer(
        {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
            "gil_enabled_by_default": gil_enabled_at_start(),
        }
    )
    try:  # noqa: SIM105 - contextlib.suppress is missing in 2.7
        answer({"start_method": default_start_method()})
    except Exception:  # an old or unusual Python: the version line already says what it is
        pass
    # An exception here means no usable subinterpreters: the answer's default says just that.
    answer({"subinterpreters": own_gil_subinterpreters()})


if __name__ == "__main__":
    main()
