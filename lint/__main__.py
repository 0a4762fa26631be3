from pipelint.console import run

run()
