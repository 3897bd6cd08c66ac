#!/usr/bin/env python
"""Django's command-line utility in a checkout; installed, the same is ``communityops``."""

from config.cli import main

if __name__ == "__main__":
    main()
