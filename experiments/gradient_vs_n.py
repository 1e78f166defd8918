"""Run one experiment: the one this script is named after.

Its grid, tasks, figures and claims are defined in costad/study/experiments/ under the same
name, so that the installed `costad run NAME` and this script run the same study.

    python experiments/NAME.py [--quick] [--results DIR] [--seed S] [--repeats N]
"""
import sys
from pathlib import Path

from costad.study.commands.run import run_script

if __name__ == "__main__":
    sys.exit(run_script(Path(__file__).stem, sys.argv[1:]))
