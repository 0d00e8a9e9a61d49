"""The accreditation system's rules in one namespace, for routes, the seed and the demo.

Each function takes its session and the acting operator, checks who may do it, validates the
input, appends to the record's history and to central's audit log in the caller's transaction.
The rules live in their modules: ``schemes``, ``applications``, ``assessors``,
``accreditations``, ``recognitions``; the trust list's content in ``listing``."""

from __future__ import annotations

from zistboom.accreditation.accreditations import (
    AccreditationChange,
    get_accreditation,
    list_accreditations,
    reinstate,
    revoke,
    state_at,
    suspend,
    withdraw,
)
from zistboom.accreditation.applications import (
    MAX_EVIDENCE_BYTES,
    ApplicationInput,
    DecisionInput,
    attach_evidence,
    decide,
    evidence_file,
    findings,
    get_application,
    list_applications,
    request_information,
    respond,
    review_criterion,
    start_review,
    submit,
)
from zistboom.accreditation.assessors import (
    authority_status,
    delegate,
    grant_authority,
    list_authorities,
    withdraw_authority,
)
from zistboom.accreditation.listing import build_trust_list_content
from zistboom.accreditation.recognitions import (
    RecognitionTerms,
    create_recognition,
    get_recognition,
    list_recognitions,
    new_version,
    revoke_recognition,
    version_status,
)
from zistboom.accreditation.schemes import (
    CriterionInput,
    SchemeInput,
    create_scheme,
    get_scheme,
    list_schemes,
    retire_scheme,
    scheme_status,
)

__all__ = [
    "MAX_EVIDENCE_BYTES",
    "AccreditationChange",
    "ApplicationInput",
    "CriterionInput",
    "DecisionInput",
    "RecognitionTerms",
    "SchemeInput",
    "attach_evidence",
    "authority_status",
    "build_trust_list_content",
    "create_recognition",
    "create_scheme",
    "decide",
    "delegate",
    "evidence_file",
    "findings",
    "get_accreditation",
    "get_application",
    "get_recognition",
    "get_scheme",
    "grant_authority",
    "list_accreditations",
    "list_applications",
    "list_authorities",
    "list_recognitions",
    "list_schemes",
    "new_version",
    "reinstate",
    "request_information",
    "respond",
    "retire_scheme",
    "review_criterion",
    "revoke",
    "revoke_recognition",
    "scheme_status",
    "start_review",
    "state_at",
    "submit",
    "suspend",
    "version_status",
    "withdraw",
    "withdraw_authority",
]
