"""All Temporal plumbing: the typed client, the connection, the data converter and payload codec, the codec
server, search attributes, activity and task-queue names, history decoding, metrics, the one dev-server
launcher (used by ``make run``, the tests and the benchmarks), the workflow sandbox the workers and the replayer run,
and the bytecode the worker keeps for it (on disk and in memory).

It may import ``peer_review.domain`` and ``peer_review.settings``; the CLI, the web front end, the workflow,
the activities and the worker import it.
"""
