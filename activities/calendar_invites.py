"""Meeting invitations as calendars read them: an iCalendar object (RFC 5545) in the
meeting's own time zone (a CLAV in Mayotte meets in Indian/Mayotte), with that zone
described, addressed to the one recipient of the email (the
other invitees' addresses stay private)."""

from datetime import UTC, datetime

from icalendar import Calendar, Event, vCalAddress

from definitions.local_time import zone_info
from definitions.outgoing import CalendarInvite, CalendarMethod

PRODUCT_ID = "-//UNCCAS//Tocsin//FR"


def invitation_ics(invite: CalendarInvite, organizer: str, attendee: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", invite.method.value)
    event = Event()
    event.add("uid", invite.uid)
    event.add("sequence", invite.sequence)
    event.add("dtstamp", datetime.now(UTC))
    zone = zone_info(invite.time_zone)
    event.add("dtstart", invite.starts_at.astimezone(zone))
    event.add("dtend", invite.ends_at.astimezone(zone))
    event.add("summary", invite.summary)
    event.add("location", invite.location)
    if invite.description:
        event.add("description", invite.description)
    cancelled = invite.method is CalendarMethod.CANCEL
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("organizer", vCalAddress(f"mailto:{organizer}"), parameters={"CN": "UNCCAS"})
    event.add(
        "attendee",
        vCalAddress(f"mailto:{attendee}"),
        parameters={"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "FALSE"},
    )
    calendar.add_component(event)
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()
    return ical
