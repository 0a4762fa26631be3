"""An interrupt raised at one chosen line, in a process of its own (tests/test_interrupts.py, test_hostile.py):
one line per run, where a random signal would take thousands of runs to land."""

from __future__ import annotations

import dis

# Python for the process under test. After it, interrupt_at(...) arms the interrupt; `fired` holds the line once
# it has been raised (and "fired" is written to standard error).
TRACER = '''
import signal, sys
fired = []

def interrupt_at(functions, where, line, sig, handler, raised):
    """Raise raised() the first time `line` of the file `where` runs in one of `functions` (or a function
    nested in one), where the signal `sig` would raise: its handler is `handler`, and it is not held back."""
    codes = {f.__code__ for f in functions}
    codes |= {c for code in list(codes) for c in code.co_consts if hasattr(c, "co_lines")}

    def at_line(frame, event, arg):
        if event == "line" and frame.f_lineno == line and frame.f_code.co_filename == where and not fired \\
                and signal.getsignal(sig) is handler and sig not in signal.pthread_sigmask(signal.SIG_BLOCK, []):
            fired.append(line)
            sys.stderr.write("fired\\n")
            raise raised()
        return at_line

    sys.settrace(lambda frame, event, arg: at_line if frame.f_code in codes else None)
'''


def lines_of(functions, nested: bool = True) -> list[tuple[str, int]]:
    """(file, line) of each line of these functions' own code and (`nested`) of the functions nested in them."""
    codes = [f.__code__ for f in functions]
    if nested:
        codes += [c for code in codes for c in code.co_consts if hasattr(c, "co_lines")]
    return sorted({(code.co_filename, line) for code in codes for _, line in dis.findlinestarts(code)
                   if line is not None and line > code.co_firstlineno})
