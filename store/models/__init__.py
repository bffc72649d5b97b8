"""The vocabulary of DESIGN.md section 1 as pydantic models, shared by store, API, client and console."""

from .audit import AuditEvent
from .campaign import (
    Approval, ApprovalState, Campaign, CampaignAction, CampaignEdit, CampaignSpec, CampaignSummary, Content, EmailContent,
    PushContent, RateControl, SmsContent, Version, VersionSpec, edit_from_document, editable_document, field_errors,
)
from .channel import ChannelConfiguration, Provider, SmtpSettings, WebhookSettings
from .common import HIDDEN_BY_DEFAULT, CampaignType, Category, Channel, ExclusionReason, Role, Status
from .people import ApprovalPolicy, Approvers, Caller, PolicyConditions, User, proof_of
from .run import ActiveRun, Delivery, DeliveryOutcome, Run, RunCounters, RunFailure, RunStatus, RunTrigger
from .schedule import Frequency, Recurrence, Schedule, Weekday
from .workflow import (
    ActivityCount, ActivityKind, ActivityState, Transition, TransitionCount, Workflow, WorkflowCounts,
)

__all__ = [name for name in dir() if not name.startswith("_")]
