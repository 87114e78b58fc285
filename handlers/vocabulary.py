"""One source for each vocabulary the core uses: categories (with their handling rules), kinds and roles. Ticket
states live in storage/lifecycle.py. Names people read are in handlers/texts.py, keyed by these codes; a test
checks that texts, the routing rules file and the directory agree with this module."""
from __future__ import annotations

# Routing categories, in the order of ../shared/data/LABELS.md (codes are stable; units are configurable).
CATEGORIES = ("preschool", "admission", "fees", "burden", "tutoring", "ethics", "teachers", "safety", "exams",
              "planning", "vocational", "other_edu", "out_of_scope")
# Complaints about the conduct of a school's own teachers or head (师德) are never handled by that school.
NEVER_TO_SCHOOL = frozenset({"ethics"})
# A complaint in these categories is urgent: the short deadline (deadlines.safety_complaint_days).
URGENT = frozenset({"safety"})

KINDS = ("complaint", "suggestion", "inquiry", "praise")

ROLES = ("citizen", "handler", "supervisor", "leader", "admin")
STAFF_ROLES = frozenset({"handler", "supervisor", "leader", "admin"})
SUPERVISORS = frozenset({"supervisor", "leader", "admin"})
WIDE_ROLES = frozenset({"leader", "admin"})   # may act on any ticket
# Not a role but a place: members of the bureau's duty office (routing.duty_office) stand in for units with
# nobody bound, and re-dispatch what units send back.
DUTY = "duty"
