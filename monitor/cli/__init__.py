"""The `monitor` command: `main` parses the verb and maps errors to exit codes."""
