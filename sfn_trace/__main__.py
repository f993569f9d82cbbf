from sfn_trace.cli import app

app(prog_name="sfn-trace")
