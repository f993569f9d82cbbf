"""End to end: the moto lab executing the ASL for real, and the CLI against it."""
