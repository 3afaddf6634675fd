"""Activity names shared by the workflow and the worker.

The workflow calls activities by name so that it never imports the I/O libraries they use.
"""

RESOLVE_CONTACTS = "resolve_contacts"
FIND_STAFF = "find_staff"
RECORD_BATCH = "record_batch"
NOTIFY = "notify"
