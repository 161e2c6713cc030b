"""Piping the CLI into a reader that stops early (`| head`) is not an error."""

import subprocess
import sys


def test_a_reader_that_leaves_before_the_output_gets_no_traceback():
    proc = subprocess.Popen(
        [sys.executable, "-m", "tenantguard", "policies", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before anything is written
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
