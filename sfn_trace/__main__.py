from sfn_trace.cli import main

main()
