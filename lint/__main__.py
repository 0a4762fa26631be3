from pipelint.app.entry import run

run()
