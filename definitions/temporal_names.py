"""Names by which Temporal parts call each other, so that workflows, activities
and clients share a contract without importing one another."""

MAJOR_EVENT_WORKFLOW = "MajorEventWorkflow"
STATUS_QUERY = "status"
CLOSE_UPDATE = "close"

RECORD_DECLARATION = "record_declaration"
RECORD_PHASE = "record_phase"
APPEND_CRISIS_LOG = "append_crisis_log"
LOAD_PROTOCOL = "load_protocol"
RESOLVE_TERRITORY = "resolve_territory"
SEND_SMS = "send_sms"
SEND_EMAIL = "send_email"
