"""The pure domain: contracts, the lifecycle (who may act and who may read), triage, deadlines on working days,
findings rules, notices and the audit chain.

No I/O, no Temporal: the workflow passes these modules through its sandbox, and every other room may import
them. They import nothing else from the project.
"""
