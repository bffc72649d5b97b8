"""The typed client of the API, used by the console and the CLI.

It speaks HTTP through httpx, so the same client works in-process (``httpx.ASGITransport``
over the embedded app) and over the Unix socket of the process that hosts the workspace
(``store.embedded.connect``); a port is one more transport. Problem JSON comes back as the
same ``CampaignsError`` subclass the server raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from functools import cache
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from .errors import ERRORS_BY_PROBLEM, CampaignsError, ValidationFailed

if TYPE_CHECKING:
    from pydantic import TypeAdapter

    from .list_rows import CampaignRow
    from .listing import CampaignFilter
    from .models import (
        ActiveRun, ApprovalPolicy, AuditEvent, Campaign, CampaignEdit, CampaignSummary, ChannelConfiguration, Role, Run,
        User,
    )
    from .models.approval_inbox import AwaitingApproval
    from .models.audience import Audience
    from .models.authoring import ContentCheck, Rendered
    from .models.execution import Execution
    from .models.outbox import OutboxPage
    from .models.profile import ImportSummary, Profile, ProfileStats
    from .models.report import ActivationPreview, Report
    from .models.token import IssuedToken
    from .models.workflow import WorkflowCounts
    from .models.workspace_info import DemoSeeded, WorkspaceInfo

_Row = TypeVar("_Row")


def edit_from_file_document(document: Any) -> CampaignEdit:
    """Parse a create/edit document, turning model errors into one field-level ValidationFailed."""
    from pydantic import ValidationError

    from .models import edit_from_document, field_errors

    try:
        return edit_from_document(document)
    except ValidationError as error:
        errors = field_errors(error)
        raise ValidationFailed.of(errors) from None
    except ValueError as error:
        raise ValidationFailed(str(error)) from None


class CampaignsClient:
    """Each method imports the models it validates with when it is called: a command that only passes the API's
    JSON on (`campaigns list --json`) never loads pydantic, a third of its start-up."""

    def __init__(self, http: httpx.AsyncClient, *, remote: str | None = None, engine_here: bool = False) -> None:
        self.http = http
        self.remote = remote  # where the hosting process is, when it is not this one
        self.engine_here = engine_here  # this process runs the engine's scheduler
        self.notices: list[str] = []  # what opening the workspace here did, for the user to hear once
        self._lists: dict[tuple, tuple[str, list[Any]]] = {}  # ETag and rows per decoding and filter
        self._rows: dict[tuple, tuple[str, list[CampaignRow]]] = {}  # list revision and rows per filter

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise _error_from(response)
        return response

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._send(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # campaigns ---------------------------------------------------------------------------
    async def list_campaigns(self, f: CampaignFilter | None = None) -> list[CampaignSummary]:
        # Parsed and validated in one pass by pydantic-core: twice as fast as json.loads + validate at 10,000 rows.
        return await self._list(_list_params(f), _summaries().validate_json)

    async def list_json(self, **query: Any) -> list[dict[str, Any]]:
        """The list as ``CampaignSummary`` JSON values (every field, in order, instants in UTC as Z: the API's
        pre-serialized rows omit empty ones), for output; ``query`` is a ``CampaignFilter``'s fields (``all``,
        ``statuses``, ``types``, ``channels``, ``tags``, ``search``), so its module need not be loaded."""
        rows = await self._list(list_query(**query), _summaries().validate_json)
        return _summaries().dump_python(rows, mode="json")

    async def campaign_rows(self, f: CampaignFilter | None = None) -> list[CampaignRow]:
        """The list as compact rows (``store.list_rows``): what the console keeps of 100,000 campaigns.

        After the first answer only the rows changed since are sent and patched in; nothing changed
        returns the very list returned before (the console then has nothing to redo)."""
        from .list_rows import decode_changes, patched

        params = _list_params(f)
        key = tuple(params)
        token, held = self._rows.get(key, ("", []))
        response = await self._send("GET", "/v1/campaigns", params=[*params, ("since", token)])
        changes = decode_changes(response.content)
        rows = changes.rows if changes.full else patched(held, changes.rows, changes.removed)
        self._rows[key] = (changes.revision, rows)
        return rows

    async def _list(self, params: list[tuple[str, str]], decode: Callable[[bytes], list[_Row]]) -> list[_Row]:
        """The list under ``params``, decoded by ``decode``; "304 Not Modified" returns the rows decoded before."""
        key = (decode, *params)
        cached = self._lists.get(key)
        headers = {"If-None-Match": cached[0]} if cached else {}
        response = await self._send("GET", "/v1/campaigns", params=params, headers=headers)
        if response.status_code == 304 and cached:
            return cached[1]
        rows = decode(response.content)
        if "etag" in response.headers:
            self._lists[key] = (response.headers["etag"], rows)
        return rows

    async def campaign(self, campaign_id: str) -> Campaign:
        from .models import Campaign

        return Campaign.model_validate(await self._call("GET", f"/v1/campaigns/{campaign_id}"))

    async def create_campaign(self, edit: CampaignEdit) -> Campaign:
        from .models import Campaign

        return Campaign.model_validate(await self._call("POST", "/v1/campaigns", json=edit.model_dump(mode="json")))

    async def edit_draft(self, campaign_id: str, edit: CampaignEdit) -> Campaign:
        from .models import Campaign

        return Campaign.model_validate(
            await self._call("PUT", f"/v1/campaigns/{campaign_id}/draft", json=edit.model_dump(mode="json")))

    async def delete_campaign(self, campaign_id: str) -> Campaign | None:
        """None when the Draft campaign is gone; the campaign when only its open draft was discarded."""
        from .models import Campaign

        body = await self._call("DELETE", f"/v1/campaigns/{campaign_id}")
        return None if body is None else Campaign.model_validate(body)

    async def _act(self, campaign_id: str, action: str, **kwargs: Any) -> Campaign:
        from .models import Campaign

        return Campaign.model_validate(await self._call("POST", f"/v1/campaigns/{campaign_id}/{action}", **kwargs))

    async def request_approval(self, campaign_id: str, message: str | None = None) -> Campaign:
        return await self._act(campaign_id, "request-approval", json={"message": message} if message else None)

    async def cancel_approval_request(self, campaign_id: str) -> Campaign:
        return await self._act(campaign_id, "cancel-approval-request")

    async def approve(self, campaign_id: str, base_revision: int) -> Campaign:
        """Approve the draft revision the approver reviewed (refused with 409 if it changed since)."""
        return await self._act(campaign_id, "approve", json={"base_revision": base_revision})

    async def request_changes(self, campaign_id: str, message: str, base_revision: int) -> Campaign:
        return await self._act(campaign_id, "request-changes",
                               json={"message": message, "base_revision": base_revision})

    async def activate(self, campaign_id: str) -> Campaign:
        return await self._act(campaign_id, "activate")

    async def stop(self, campaign_id: str) -> Campaign:
        return await self._act(campaign_id, "stop")

    async def archive(self, campaign_id: str) -> Campaign:
        return await self._act(campaign_id, "archive")

    async def duplicate(self, campaign_id: str) -> Campaign:
        return await self._act(campaign_id, "duplicate")

    async def trigger(self, campaign_id: str, *, profiles: list[str], context: dict | None = None,
                      request_id: str | None = None) -> Execution:
        """The call's execution (the first one when ``request_id`` was used before with the same body)."""
        from .models.execution import Execution

        body = {"profiles": profiles, "context": context or {}, "request_id": request_id}
        return Execution.model_validate(await self._call("POST", f"/v1/campaigns/{campaign_id}/trigger", json=body))

    async def execution(self, execution_id: str) -> Execution:
        from .models.execution import Execution

        return Execution.model_validate(await self._call("GET", f"/v1/executions/{execution_id}"))

    async def executions(self, campaign_id: str, limit: int = 20) -> list[Execution]:
        from .models.execution import Execution

        return [Execution.model_validate(e) for e in
                await self._call("GET", f"/v1/campaigns/{campaign_id}/executions", params={"limit": limit})]

    async def runs(self, campaign_id: str) -> list[Run]:
        from .models import Run

        return [Run.model_validate(r) for r in await self._call("GET", f"/v1/campaigns/{campaign_id}/runs")]

    async def test_workflow(self, campaign_id: str, version: str = "current") -> WorkflowCounts:
        """Test mode: every transition's count without sending or saving (``version``: current or live)."""
        from .models.workflow import WorkflowCounts

        return WorkflowCounts.model_validate(await self._call(
            "POST", f"/v1/campaigns/{campaign_id}/workflow/test", params={"version": version}))

    async def workflow_counts(self, campaign_id: str, run_id: str | None = None) -> WorkflowCounts | None:
        """A workflow run's counts (default: the latest run's); None when the campaign has not run yet."""
        from .models.workflow import WorkflowCounts

        body = await self._call("GET", f"/v1/campaigns/{campaign_id}/workflow/counts",
                                params={"run": run_id} if run_id else None)
        return None if body is None else WorkflowCounts.model_validate(body)

    async def active_runs(self) -> list[ActiveRun]:
        """The runs in flight with their live counters, rate and time left (not the list's rows)."""
        from .models import ActiveRun

        return [ActiveRun.model_validate(r) for r in await self._call("GET", "/v1/runs/active")]

    async def report(self, campaign_id: str) -> Report:
        from .models.report import Report

        return Report.model_validate(await self._call("GET", f"/v1/campaigns/{campaign_id}/report"))

    async def outbox(self, *, channel: str | None = None, campaign_id: str | None = None, cursor: str = "",
                     limit: int = 1000, newest: bool = False, since: datetime | None = None) -> OutboxPage:
        """Outbox messages after ``cursor`` and the cursor to continue from (to follow, ask again); with
        ``newest`` the newest ``limit`` (sent since ``since``), their ``total`` and the cursor at the end."""
        from .models.outbox import OutboxPage

        params: dict[str, str | int] = {"cursor": cursor, "limit": limit}
        if newest:
            params["newest"] = "true"
        if since is not None:
            params["since"] = since.isoformat()
        if channel:
            params["channel"] = channel
        if campaign_id:
            params["campaign"] = campaign_id
        return OutboxPage.model_validate(await self._call("GET", "/v1/outbox", params=params))

    async def activation_preview(self, campaign_id: str) -> ActivationPreview:
        from .models.report import ActivationPreview

        return ActivationPreview.model_validate(await self._call("GET", f"/v1/campaigns/{campaign_id}/activation-preview"))

    async def check_content(self, content: dict[str, Any]) -> ContentCheck:
        """Template errors (field, line, column) of content being written; none when it all parses."""
        from .models.authoring import ContentCheck

        return ContentCheck.model_validate(await self._call("POST", "/v1/content/check", json=content))

    async def render(self, campaign_id: str, *, profile_id: str | None = None, version: str = "live") -> Rendered:
        from .models.authoring import Rendered

        return Rendered.model_validate(await self._call("POST", f"/v1/campaigns/{campaign_id}/render",
                                                        json={"profile_id": profile_id, "version": version}))

    async def audit_trail(self, campaign_id: str) -> list[AuditEvent]:
        from .models import AuditEvent

        return [AuditEvent.model_validate(e) for e in await self._call("GET", f"/v1/campaigns/{campaign_id}/audit")]

    async def awaiting_my_approval(self) -> list[AwaitingApproval]:
        return _awaiting().validate_python(await self._call("GET", "/v1/approvals"))

    # workspace ---------------------------------------------------------------------------
    async def me(self) -> WorkspaceInfo:
        from .models.workspace_info import WorkspaceInfo

        return WorkspaceInfo.model_validate(await self._call("GET", "/v1/me"))

    async def users(self) -> list[User]:
        from .models import User

        return [User.model_validate(u) for u in await self._call("GET", "/v1/users")]

    async def add_user(self, user: User) -> User:
        from .models import User

        return User.model_validate(await self._call("POST", "/v1/users", json=user.model_dump(mode="json")))

    async def set_role(self, name: str, role: Role) -> User:
        from .models import User

        return User.model_validate(await self._call("PUT", f"/v1/users/{name}/role", json={"role": role.value}))

    async def remove_user(self, name: str) -> None:
        await self._call("DELETE", f"/v1/users/{name}")

    async def issue_token(self, name: str, days: int | None = None) -> IssuedToken:
        from .models.token import IssuedToken

        body = {"days": days} if days is not None else None
        return IssuedToken.model_validate(await self._call("POST", f"/v1/users/{name}/tokens", json=body))

    async def revoke_tokens(self, name: str) -> int:
        from .models.token import RevokedTokens

        return RevokedTokens.model_validate(await self._call("DELETE", f"/v1/users/{name}/tokens")).revoked

    async def channel_configurations(self) -> list[ChannelConfiguration]:
        from .models import ChannelConfiguration

        return [ChannelConfiguration.model_validate(c) for c in await self._call("GET", "/v1/channel-configurations")]

    async def put_channel_configuration(self, config: ChannelConfiguration) -> ChannelConfiguration:
        from .models import ChannelConfiguration

        body = await self._call("PUT", f"/v1/channel-configurations/{config.id}", json=config.model_dump(mode="json"))
        return ChannelConfiguration.model_validate(body)

    async def remove_channel_configuration(self, config_id: str) -> None:
        await self._call("DELETE", f"/v1/channel-configurations/{config_id}")

    async def audiences(self) -> list[Audience]:
        from .models.audience import Audience

        return [Audience.model_validate(a) for a in await self._call("GET", "/v1/audiences")]

    async def put_audience(self, audience: Audience) -> Audience:
        from .models.audience import Audience

        return Audience.model_validate(
            await self._call("PUT", f"/v1/audiences/{audience.id}", json=audience.model_dump(mode="json")))

    async def remove_audience(self, audience_id: str) -> None:
        await self._call("DELETE", f"/v1/audiences/{audience_id}")

    async def audience_size(self, audience_id: str) -> int:
        return (await self._call("GET", f"/v1/audiences/{audience_id}/size"))["size"]

    async def approval_policies(self) -> list[ApprovalPolicy]:
        from .models import ApprovalPolicy

        return [ApprovalPolicy.model_validate(p) for p in await self._call("GET", "/v1/approval-policies")]

    async def add_approval_policy(self, policy: ApprovalPolicy) -> ApprovalPolicy:
        from .models import ApprovalPolicy

        return ApprovalPolicy.model_validate(
            await self._call("POST", "/v1/approval-policies", json=policy.model_dump(mode="json")))

    async def put_approval_policy(self, policy: ApprovalPolicy) -> ApprovalPolicy:
        from .models import ApprovalPolicy

        return ApprovalPolicy.model_validate(
            await self._call("PUT", f"/v1/approval-policies/{policy.id}", json=policy.model_dump(mode="json")))

    async def remove_approval_policy(self, policy_id: str) -> None:
        await self._call("DELETE", f"/v1/approval-policies/{policy_id}")

    async def seed_demo(self) -> DemoSeeded:
        from .models.workspace_info import DemoSeeded

        return DemoSeeded.model_validate(await self._call("POST", "/v1/workspace/seed-demo"))

    # profiles ----------------------------------------------------------------------------
    async def import_profiles_chunk(self, format: str, text: str, first_line: int,
                                    header: list[str] | None = None) -> ImportSummary:
        from .models.profile import ImportSummary

        body = {"format": format, "header": header, "text": text, "first_line": first_line}
        return ImportSummary.model_validate(await self._call("POST", "/v1/profiles/import-chunk", json=body))

    async def profile(self, profile_id: str) -> Profile:
        from .models.profile import Profile

        return Profile.model_validate(await self._call("GET", f"/v1/profiles/{profile_id}"))

    async def profile_stats(self) -> ProfileStats:
        from .models.profile import ProfileStats

        return ProfileStats.model_validate(await self._call("GET", "/v1/profiles/stats"))


def _list_params(f: CampaignFilter | None) -> list[tuple[str, str]]:
    return list_query(**dict(f)) if f is not None else []


def list_query(*, all: bool = False, statuses: Iterable[Enum] = (), types: Iterable[Enum] = (),
               channels: Iterable[Enum] = (), tags: Iterable[str] = (), search: str = "") -> list[tuple[str, str]]:
    """A ``CampaignFilter``'s fields as the list's query parameters (none: the default list)."""
    params: list[tuple[str, str]] = [("all", "true")] if all else []
    params += [("status", s.value) for s in statuses] + [("type", t.value) for t in types]
    params += [("channel", c.value) for c in channels] + [("tag", t) for t in tags]
    if search:
        params.append(("search", search))
    return params


@cache
def _summaries() -> TypeAdapter[list[CampaignSummary]]:
    from pydantic import TypeAdapter

    from .models import CampaignSummary

    return TypeAdapter(list[CampaignSummary])


@cache
def _awaiting() -> TypeAdapter[list[AwaitingApproval]]:
    from pydantic import TypeAdapter

    from .models.approval_inbox import AwaitingApproval

    return TypeAdapter(list[AwaitingApproval])


def _error_from(response: httpx.Response) -> CampaignsError:
    try:
        body = response.json()
        cls = ERRORS_BY_PROBLEM.get(str(body.get("type", "")).rsplit(":", 1)[-1], CampaignsError)
        detail = body.get("detail") or body.get("title") or response.reason_phrase
    except ValueError:
        return CampaignsError(f"the API answered {response.status_code} {response.reason_phrase}")
    error = cls(detail, body.get("errors")) if cls is ValidationFailed else cls(detail)
    error.status = response.status_code
    return error
