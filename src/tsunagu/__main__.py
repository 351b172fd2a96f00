"""python -m tsunagu: the same command as the installed tsunagu script."""

from tsunagu.cli import main

main()
