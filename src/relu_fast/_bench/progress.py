"""The progress line of bench and demo."""
import sys
import time

WIDTH = 110


class Progress:
    """One line on stderr, rewritten in place on a terminal; elsewhere (a log, a pipe) a
    line per step, since carriage returns would pile every step onto one line."""

    def __init__(self, total, quiet=False):
        self.total, self.done, self.t0, self.quiet = total, 0, time.perf_counter(), quiet
        self.tty = sys.stderr.isatty()

    def step(self, text):
        """One more of `total` done, now at `text`."""
        self.show(self.done + 1, text)

    def show(self, done, text):
        self.done = done
        if self.quiet:
            return
        line = f"[{self.done:>3}/{self.total}] {time.perf_counter() - self.t0:6.1f}s  {text}"
        if self.tty:
            sys.stderr.write("\r" + line[:WIDTH].ljust(WIDTH))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def close(self):
        if self.tty and not self.quiet:
            sys.stderr.write("\r" + " " * WIDTH + "\r")
            sys.stderr.flush()
