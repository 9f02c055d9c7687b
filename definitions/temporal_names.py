"""Names by which Temporal parts call each other, so that workflows, activities
and clients share a contract without importing one another."""

MAJOR_EVENT_WORKFLOW = "MajorEventWorkflow"
STATUS_QUERY = "status"
CLOSE_UPDATE = "close"

RECORD_DECLARATION = "record_declaration"
RECORD_PHASE = "record_phase"
RECORD_AREA = "record_area"
APPEND_CRISIS_LOG = "append_crisis_log"
LOAD_PROTOCOL = "load_protocol"
RESOLVE_TERRITORY = "resolve_territory"
SEND_SMS = "send_sms"
PLACE_CALL = "place_call"
SEND_EMAIL = "send_email"
LOAD_TEMPLATES = "load_templates"

REPRESENTATIVE_DESIGNATION_WORKFLOW = "RepresentativeDesignationWorkflow"
CHANGE_REPRESENTATIVE_UPDATE = "change_representative"
DESIGNATION_PROGRESS_SIGNAL = "designation_progress"
DESIGNATE_SIGNAL = "designate"
STOP_SIGNAL = "stop"
REPLY_SIGNAL = "reply"
DELIVERY_FAILED_SIGNAL = "delivery_failed"

LOAD_ROSTER = "load_roster"
LOAD_PERSON = "load_person"
LOAD_ON_CALL_STAFF = "load_on_call_staff"
LOAD_PEOPLE = "load_people"
LOAD_STATE_RECIPIENTS = "load_state_recipients"
BUSY_REPRESENTATIVES = "busy_representatives"
CLAIM_REPRESENTATIVE = "claim_representative"
OPEN_REPLY_CODES = "open_reply_codes"
CLOSE_REPLY_CODES = "close_reply_codes"
SEND_BRIEFING = "send_representative_briefing"

DEPARTMENT_MOBILISATION_WORKFLOW = "DepartmentMobilisationWorkflow"
COUNTS_QUERY = "counts"
CENTRES_QUERY = "centres"
BROADCAST_UPDATE = "broadcast"
ALERT_LEVEL_UPDATE = "change_alert_level"
EXTEND_AREA_UPDATE = "extend_area"
DELIVERIES_SIGNAL = "deliveries"
SITUATION_REPORT_SIGNAL = "situation_report"
AREA_CHANGE_SIGNAL = "area_change"
REPRESENTATIVE_SIGNAL = "representative"
SEND_SMS_BATCH = "send_sms_batch"
SEND_EMAIL_BATCH = "send_email_batch"
APPEND_CRISIS_LOG_ENTRIES = "append_crisis_log_entries"
LOAD_SUPPORT_TARGETS = "load_support_targets"
LOAD_NEIGHBOURS = "load_neighbours"
RECORD_CENTRES = "record_centres"
OPEN_ANSWER_LINKS = "open_answer_links"

COMMITTEE_LIAISON_WORKFLOW = "CommitteeLiaisonWorkflow"
ENTER_COMMITTEE_UPDATE = "enter_committee"
REGISTER_COMMITTEE_UPDATE = "register_committee"
REGISTER_MEETING_UPDATE = "register_meeting"
MOVE_MEETING_UPDATE = "move_meeting"
CANCEL_MEETING_UPDATE = "cancel_meeting"
REPORT_MEETING_UPDATE = "report_meeting"

STAFF_NOTICE_WORKFLOW = "StaffNoticeWorkflow"

GUIDE_DIFFUSION_WORKFLOW = "GuideDiffusionWorkflow"
GUIDE_PROGRESS_QUERY = "progress"
PREPARE_GUIDE_EDITION = "prepare_guide_edition"
SEND_GUIDE_BATCH = "send_guide_batch"


def sms_task_queue(task_queue: str) -> str:
    """SMS leave through their own queue, rate-limited for the provider's sake."""
    return f"{task_queue}-sms"


def voice_task_queue(task_queue: str) -> str:
    """Calls leave through their own queue, at their own provider rate."""
    return f"{task_queue}-voice"


def email_task_queue(task_queue: str) -> str:
    """Email leaves through its own queue too: a national activation's batches, each
    long, would otherwise hold every slot of the main queue while the short store
    activities the departments wait on (reply codes, records) queued behind them."""
    return f"{task_queue}-email"


def designation_workflow_id(event_id: str, generation: int) -> str:
    """``EVENT/representative``, then ``EVENT/representative-2`` for a handover."""
    suffix = "" if generation == 1 else f"-{generation}"
    return f"{event_id}/representative{suffix}"


def mobilisation_workflow_id(event_id: str, department_code: str) -> str:
    """``EVENT/mobilisation-59``: one per affected department."""
    return f"{event_id}/mobilisation-{department_code}"


def committee_workflow_id(event_id: str) -> str:
    """``EVENT/committee``: the liaison with the committees, for months."""
    return f"{event_id}/committee"


AFTER_ACTION_REVIEW_WORKFLOW = "AfterActionReviewWorkflow"
REVIEW_COMPILED_SIGNAL = "review_compiled"
PLAN_ACTION_UPDATE = "plan_action"
OPEN_QUESTIONNAIRES = "open_questionnaires"
UNANSWERED_QUESTIONNAIRES = "unanswered_questionnaires"
COMPILE_REVIEW_REPORT = "compile_review_report"
CLOSE_QUESTIONNAIRES = "close_questionnaires"


def review_workflow_id(event_id: str) -> str:
    """``EVENT/review``: the after-action review, from closure to its action plan."""
    return f"{event_id}/review"


DIRECTORY_VERIFICATION_WORKFLOW = "DirectoryVerificationWorkflow"
VERIFICATION_PROGRESS_QUERY = "progress"
PLAN_VERIFICATION = "plan_verification"
VERIFICATION_MESSAGES = "verification_messages"
RECORD_VERIFICATION_ANSWERS = "record_verification_answers"
LIVE_EVENT_MOBILISING = "live_event_mobilising"
REPORT_SILENT_ORGANISATIONS = "report_silent_organisations"


def verification_task_queue(task_queue: str) -> str:
    """A campaign's SMS leave through a queue of their own, whose server-side rate
    is a small share of the provider's: a campaign never crowds out an event."""
    return f"{task_queue}-verification"


DIRECTORY_DIGEST_WORKFLOW = "DirectoryDigestWorkflow"
SEND_DIRECTORY_DIGEST = "send_directory_digest"
