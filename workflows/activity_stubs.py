"""The activities workflows call, as typed stubs: each has the name, the parameter
and the return type of the activity that the workers register under that name, so
that the type checker knows what every call from a workflow sends and receives.

Workflows never import the activities themselves (they bring the database, Twilio
and SMTP with them); a stub's body never runs, since a call only schedules the
activity of its name. tests/test_activity_contracts.py checks that every stub
matches an activity registered by worker/temporal_workers.py, and the reverse.
"""

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from definitions import temporal_names as names
    from definitions.answer_links import AnswerLink
    from definitions.awaited_replies import ReplyCodeClosure, ReplyCodeRequest
    from definitions.competence import TerritorySummary
    from definitions.crisis_log import (
        AreaRecord,
        CrisisLogEntry,
        DeclarationRecord,
        PhaseRecord,
    )
    from definitions.designation import BriefingRequest, ClaimOutcome, RepresentativeClaim
    from definitions.directory_verification import (
        DigestOutcome,
        SilentReport,
        VerificationAnswer,
        VerificationBatch,
        VerificationMessages,
        VerificationPlan,
        VerificationStart,
    )
    from definitions.event import EventDeclaration
    from definitions.event_type import EventType
    from definitions.guide import (
        GuideBatch,
        GuideBatchOutcome,
        GuideDiffusionStart,
        PreparedEdition,
    )
    from definitions.messages import TemplateSet
    from definitions.mobilisation import (
        CentreRecords,
        NeighboursRequest,
        ReinforcementOffer,
        SupportTarget,
        TargetsRequest,
    )
    from definitions.outgoing import BatchItemResult, EmailRequest, SendResult, SmsRequest
    from definitions.people import Person, StateRecipients
    from definitions.protocol import Protocol
    from definitions.review import (
        AnswerCount,
        CompiledReport,
        InvitePage,
        QuestionnaireClosing,
        QuestionnaireInvite,
        QuestionnaireOpening,
        QuestionnairePage,
        ReviewCompilation,
    )
    from definitions.voice_calls import CallRequest

RUN_BY_A_WORKER = "a stub: the worker runs the activity registered under this name"


@activity.defn(name=names.LOAD_PROTOCOL)
async def load_protocol(event_type: EventType) -> Protocol:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.LOAD_TEMPLATES)
async def load_templates(event_type: EventType) -> TemplateSet:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.RESOLVE_TERRITORY)
async def resolve_territory(declaration: EventDeclaration) -> TerritorySummary:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.RECORD_DECLARATION)
async def record_declaration(record: DeclarationRecord) -> None:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.RECORD_PHASE)
async def record_phase(record: PhaseRecord) -> None:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.RECORD_AREA)
async def record_area(record: AreaRecord) -> None:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.APPEND_CRISIS_LOG)
async def append_crisis_log(entry: CrisisLogEntry) -> None:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.APPEND_CRISIS_LOG_ENTRIES)
async def append_crisis_log_entries(entries: list[CrisisLogEntry]) -> None:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.RECORD_CENTRES)
async def record_centres(records: CentreRecords) -> None:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.LOAD_ROSTER)
async def load_roster() -> list[Person]:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.LOAD_PERSON)
async def load_person(contact_id: str) -> Person:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.LOAD_PEOPLE)
async def load_people(ids: list[str]) -> dict[str, Person]:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.LOAD_ON_CALL_STAFF)
async def load_on_call_staff() -> list[Person]:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.LOAD_STATE_RECIPIENTS)
async def load_state_recipients(department_codes: list[str]) -> StateRecipients:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.BUSY_REPRESENTATIVES)
async def busy_representatives(event_id: str) -> dict[str, str]:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.CLAIM_REPRESENTATIVE)
async def claim_representative(claim: RepresentativeClaim) -> ClaimOutcome:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.OPEN_REPLY_CODES)
async def open_reply_codes(request: ReplyCodeRequest) -> dict[str, str]:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.OPEN_ANSWER_LINKS)
async def open_answer_links(request: ReplyCodeRequest) -> dict[str, AnswerLink]:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.CLOSE_REPLY_CODES)
async def close_reply_codes(closure: ReplyCodeClosure) -> None:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.LOAD_SUPPORT_TARGETS)
async def load_support_targets(request: TargetsRequest) -> list[SupportTarget]:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.LOAD_NEIGHBOURS)
async def load_neighbours(request: NeighboursRequest) -> list[ReinforcementOffer]:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.OPEN_QUESTIONNAIRES)
async def open_questionnaires(opening: QuestionnaireOpening) -> list[QuestionnaireInvite]:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.UNANSWERED_QUESTIONNAIRES)
async def unanswered_questionnaires(page: QuestionnairePage) -> InvitePage:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.CLOSE_QUESTIONNAIRES)
async def close_questionnaires(closing: QuestionnaireClosing) -> AnswerCount:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.COMPILE_REVIEW_REPORT)
async def compile_review_report(compilation: ReviewCompilation) -> CompiledReport:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.SEND_SMS)
async def send_sms(request: SmsRequest) -> SendResult:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.SEND_SMS_BATCH)
async def send_sms_batch(requests: list[SmsRequest]) -> list[BatchItemResult]:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.PLACE_CALL)
async def place_call(request: CallRequest) -> SendResult:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.SEND_EMAIL)
async def send_email(request: EmailRequest) -> SendResult:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.SEND_EMAIL_BATCH)
async def send_email_batch(requests: list[EmailRequest]) -> list[BatchItemResult]:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.SEND_BRIEFING)
async def send_representative_briefing(request: BriefingRequest) -> SendResult:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.PREPARE_GUIDE_EDITION)
async def prepare_guide_edition(start: GuideDiffusionStart) -> PreparedEdition:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.SEND_GUIDE_BATCH)
async def send_guide_batch(batch: GuideBatch) -> GuideBatchOutcome:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.PLAN_VERIFICATION)
async def plan_verification(start: VerificationStart) -> VerificationPlan:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.VERIFICATION_MESSAGES)
async def verification_messages(batch: VerificationBatch) -> VerificationMessages:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.RECORD_VERIFICATION_ANSWERS)
async def record_verification_answers(answers: list[VerificationAnswer]) -> None:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.LIVE_EVENT_MOBILISING)
async def live_event_mobilising() -> bool:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.REPORT_SILENT_ORGANISATIONS)
async def report_silent_organisations(campaign_id: str) -> SilentReport:
    raise NotImplementedError(RUN_BY_A_WORKER)


@activity.defn(name=names.SEND_DIRECTORY_DIGEST)
async def send_directory_digest() -> DigestOutcome:
    raise NotImplementedError(RUN_BY_A_WORKER)
