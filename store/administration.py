"""Workspace administration: users, channel configurations, audiences, approval policies and profiles.

Changes are admin-only (DESIGN.md section 2), each audited under the ``workspace`` target; reads are open to
every role. Like the lifecycle for campaigns, this is where those rules are checked: the API only calls here.
"""

from __future__ import annotations

from pydantic import BaseModel

from .clock import Clock
from .db.catalogue import Catalogue, Collection
from .errors import Conflict, InvalidTransition, ValidationFailed
from .models import ApprovalPolicy, AuditEvent, ChannelConfiguration, Role, User, proof_of
from .models.audience import Audience
from .models.token import TOKEN_DAYS, TokenRecord
from .roles import Action, require
from .tokens import new_token


class Administration:
    def __init__(self, catalogue: Catalogue, clock: Clock) -> None:
        self.catalogue = catalogue
        self.clock = clock

    def _audit(self, actor: User, action: str, detail: str) -> None:
        self.catalogue.add_audit(AuditEvent(at=self.clock.now(), user=actor.name, action=action,
                                            target="workspace", detail=detail, proof=proof_of(actor)))

    def _put(self, actor: User, permission: Action, collection: Collection, item: BaseModel, noun: str, key: str) -> None:
        require(actor, permission)
        with self.catalogue.atomic():
            existed = collection.find(key) is not None
            collection.put(item)
            self._audit(actor, f"{noun} {'updated' if existed else 'created'}", key)

    def _remove(self, actor: User, permission: Action, collection: Collection, noun: str, key: str) -> None:
        require(actor, permission)
        with self.catalogue.atomic():
            collection.remove(key)
            self._audit(actor, f"{noun} removed", key)

    # reading -----------------------------------------------------------------------------
    def users(self, actor: User) -> list[User]:
        require(actor, Action.view)
        return self.catalogue.users.all()

    def channel_configurations(self, actor: User) -> list[ChannelConfiguration]:
        """Webhook header values are secrets: every answer shows them masked."""
        require(actor, Action.view)
        return [c.masked() for c in self.catalogue.channel_configurations.all()]

    def audiences(self, actor: User) -> list[Audience]:
        require(actor, Action.view)
        return self.catalogue.audiences.all()

    def audience(self, actor: User, audience_id: str) -> Audience:
        require(actor, Action.view)
        return self.catalogue.audiences.get(audience_id)

    def approval_policies(self, actor: User) -> list[ApprovalPolicy]:
        require(actor, Action.view)
        return self.catalogue.approval_policies.all()

    def check_may_import_profiles(self, actor: User) -> None:
        require(actor, Action.import_profiles)

    def check_may_seed_demo(self, actor: User) -> None:
        """Seeding makes users and configurations: an admin's work."""
        require(actor, Action.manage_users)

    # users -------------------------------------------------------------------------------
    def add_user(self, actor: User, user: User) -> User:
        require(actor, Action.manage_users)
        with self.catalogue.atomic():
            if self.catalogue.users.find(user.name) is not None:
                raise Conflict(f"user {user.name!r} already exists; change their role with `campaigns users set-role`")
            same = next((u for u in self.catalogue.users.all() if u.os_account == user.os_account), None)
            if same is not None:
                raise Conflict(f"OS account {user.os_account} already logs in as {same.name!r}; "
                               "give the new user another --os-user")
            self.catalogue.users.put(user)
            self._audit(actor, "user added", f"{user.name} as {user.role.value}")
        return user

    def set_role(self, actor: User, name: str, role: Role) -> User:
        require(actor, Action.manage_users)
        with self.catalogue.atomic():
            user = self.catalogue.users.get(name)
            if user.role is Role.admin and role is not Role.admin:
                self._keep_an_admin(user.name)
            updated = user.model_copy(update={"role": role})
            self.catalogue.users.put(updated)
            self._audit(actor, "role changed", f"{name}: {user.role.value} → {role.value}")
        return updated

    def remove_user(self, actor: User, name: str) -> None:
        require(actor, Action.manage_users)
        with self.catalogue.atomic():
            if self.catalogue.users.get(name).role is Role.admin:
                self._keep_an_admin(name)
            self.catalogue.users.remove(name)
            self._revoke_tokens(name)  # a user added again later under this name must not inherit them
            self._audit(actor, "user removed", name)

    # tokens ------------------------------------------------------------------------------
    def record_shared(self, group: str, owner: str) -> None:
        """The owner's engine serves the socket to ``group``: kept for good (no more --user), audited once."""
        with self.catalogue.atomic():
            if self.catalogue.shared_group() == group:
                return
            self.catalogue.record_shared(group)
            self.catalogue.add_audit(AuditEvent(at=self.clock.now(), user=owner, action="workspace shared",
                                                target="workspace", detail=f"engine socket served to group {group}",
                                                proof=f"OS account {owner}, the workspace owner"))

    def issue_token(self, actor: User, name: str, days: int = TOKEN_DAYS) -> tuple[str, TokenRecord]:
        """A new bearer token for ``name``, valid ``days``: returned this once, stored only as its hash."""
        require(actor, Action.manage_users)
        with self.catalogue.atomic():
            user = self.catalogue.users.get(name)
            token, record = new_token(user.name, self.clock.now(), days)
            self.catalogue.tokens.put(record)
            self._audit(actor, "token issued", f"{user.name} ({record.id}, valid {days} days)")
        return token, record

    def revoke_tokens(self, actor: User, name: str) -> int:
        """Revoke every live token of ``name``; how many there were."""
        require(actor, Action.manage_users)
        with self.catalogue.atomic():
            self.catalogue.users.get(name)
            revoked = self._revoke_tokens(name)
            self._audit(actor, "tokens revoked", f"{name}: {revoked}")
        return revoked

    def _revoke_tokens(self, name: str) -> int:
        live = [t for t in self.catalogue.tokens.all() if t.user == name and not t.revoked]
        for record in live:
            self.catalogue.tokens.put(record.model_copy(update={"revoked": True}))
        return len(live)

    def _keep_an_admin(self, leaving: str) -> None:
        if not [u for u in self.catalogue.users.all() if u.role is Role.admin and u.name != leaving]:
            raise InvalidTransition(f"{leaving} is the last admin; make someone else admin first")

    # configuration -----------------------------------------------------------------------
    def put_channel_configuration(self, actor: User, config: ChannelConfiguration) -> ChannelConfiguration:
        """A header value sent back as the mask keeps the stored secret, so a listed document can be put back;
        the role is checked before anything stored is looked at."""
        require(actor, Action.manage_channel_configurations)
        try:
            config = config.unmasked(self.catalogue.channel_configurations.find(config.id))
        except ValueError as error:
            raise ValidationFailed(str(error), [{"field": "webhook.headers", "message": str(error)}]) from None
        self._put(actor, Action.manage_channel_configurations, self.catalogue.channel_configurations, config,
                  "channel configuration", config.id)
        return config

    def remove_channel_configuration(self, actor: User, config_id: str) -> None:
        self._remove(actor, Action.manage_channel_configurations, self.catalogue.channel_configurations,
                     "channel configuration", config_id)

    def put_audience(self, actor: User, audience: Audience) -> Audience:
        self._put(actor, Action.manage_audiences, self.catalogue.audiences, audience, "audience", audience.id)
        return audience

    def remove_audience(self, actor: User, audience_id: str) -> None:
        self._remove(actor, Action.manage_audiences, self.catalogue.audiences, "audience", audience_id)

    def add_approval_policy(self, actor: User, policy: ApprovalPolicy) -> ApprovalPolicy:
        """A new policy only: adding must never overwrite one an admin already relies on."""
        require(actor, Action.manage_approval_policies)
        with self.catalogue.atomic():
            if self.catalogue.approval_policies.find(policy.id) is not None:
                raise Conflict(f"approval policy {policy.id!r} already exists; change it with "
                               f"`campaigns policies edit {policy.id}`")
            self._put(actor, Action.manage_approval_policies, self.catalogue.approval_policies, policy,
                      "approval policy", policy.id)
        return policy

    def put_approval_policy(self, actor: User, policy: ApprovalPolicy) -> ApprovalPolicy:
        self._put(actor, Action.manage_approval_policies, self.catalogue.approval_policies, policy,
                  "approval policy", policy.id)
        return policy

    def remove_approval_policy(self, actor: User, policy_id: str) -> None:
        self._remove(actor, Action.manage_approval_policies, self.catalogue.approval_policies,
                     "approval policy", policy_id)
