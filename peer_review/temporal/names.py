"""Activity and task-queue names shared by the workflow and the worker.

The workflow calls activities by name so that it never imports the I/O libraries they use. Records and
notifications each have a task queue of their own (the review's queue plus a suffix), served by their own
worker and activity slots: a records database or mail server that is down holds only its own slots, never
the ones a decision or the other side effect needs.
"""

RESOLVE_CONTACTS = "resolve_contacts"
FIND_STAFF = "find_staff"
RESOLVE_OWNERS = "resolve_owners"
RECORD_BATCH = "record_batch"
NOTIFY = "notify"

RECORDS_QUEUE_SUFFIX = "-records"
NOTIFICATIONS_QUEUE_SUFFIX = "-notifications"
RESOLVE_RECOMMENDATION_CONTACTS = "resolve_recommendation_contacts"
RECORD_RECOMMENDATION = "record_recommendation"

# Workflow types, as clients start and query them.
REVIEW_WORKFLOW = "PeerReviewWorkflow"
RECOMMENDATION_WORKFLOW = "RecommendationWorkflow"

# Retention: the workflow and its activities run on the records queue, beside record writes and away from decisions.
RETENTION_WORKFLOW = "RetentionWorkflow"
RETENTION_SCHEDULE_ID = "peer-review-retention"
DISPOSE_BATCH = "dispose_batch"
DISPOSAL_CANDIDATES = "disposal_candidates"
RETENTION_COUNTS = "retention_counts"
