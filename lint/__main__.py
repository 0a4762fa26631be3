try:
    from pipelint.app.entry import run
except KeyboardInterrupt:  # ^C while Python imports the entry point: one line, as later on
    import sys

    sys.stderr.write("pipelint: interrupted\n")
    raise SystemExit(130) from None

run()
