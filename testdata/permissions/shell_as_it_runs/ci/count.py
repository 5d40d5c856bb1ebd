"""Counts the lines of the files given.

Copyright (c) the project authors. Licensed under the Apache License, Version 2.0
(https://www.apache.org/licenses/LICENSE-2.0); see https://github.com/o/r for the
source control system.
"""
import sys  # see https://docs.python.org/3/library/sys.html


def main() -> None:
    for name in sys.argv[1:]:
        with open(name, encoding="utf-8") as f:
            print(name, sum(1 for _ in f))


main()
