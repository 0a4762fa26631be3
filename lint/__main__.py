from pipelint.entry import run

run()
