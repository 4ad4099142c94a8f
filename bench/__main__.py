"""python -m bench [--large] [--engine sqlite|postgresql|both] ... (see --help)"""
import sys

from .run import main

sys.exit(main())
