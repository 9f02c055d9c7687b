"""A real event declared by a departmental union: UNCCAS's on-call staff are told at
once, by SMS and email, so that they can take it over (designate, extend, close)."""

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import workflows.activity_stubs as stubs
    from definitions.crisis_log import SYSTEM_ACTOR, CrisisLogKind
    from definitions.messages import MessageStep, message_header
    from definitions.staff_notice import StaffNoticeStart
    from definitions.temporal_names import STAFF_NOTICE_WORKFLOW
    from workflows.crisis_log import CrisisLogWriter
    from workflows.outreach import Outreach
    from workflows.store_calls import call_store


@workflow.defn(name=STAFF_NOTICE_WORKFLOW)
class StaffNoticeWorkflow:
    @workflow.run
    async def run(self, start: StaffNoticeStart) -> int:
        """How many of the on-call staff were reached."""
        declaration = start.declaration
        protocol = await call_store(stubs.load_protocol, declaration.type)
        territory = await call_store(stubs.resolve_territory, declaration)
        log = CrisisLogWriter(start.event_id, workflow.info().workflow_id)
        header = message_header(protocol.sms_label, territory)
        outreach = await Outreach.for_event(start.event_id, declaration, header, log)
        staff = await call_store(stubs.load_on_call_staff)
        deliveries = await asyncio.gather(
            *(
                outreach.send(
                    person, MessageStep.UD_DECLARATION, {"declared_by": start.declared_by}
                )
                for person in staff
            )
        )
        reached = sum(delivery.reached for delivery in deliveries)
        await log.append(
            CrisisLogKind.STAFF_ALERTED,
            SYSTEM_ACTOR,
            f"Permanence UNCCAS prévenue de la déclaration par {start.declared_by} : "
            f"{reached}/{len(staff)} joint(s).",
        )
        return reached
