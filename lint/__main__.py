from pipelint.cli import run

run()
