"""The `peer-review` command as people run it: a worker process, the command line, exit codes and output."""
