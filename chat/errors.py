"""Every error the service reports, each carrying a code from the contract."""

from __future__ import annotations

# WebSocket close codes (RFC 6455 and the contract's 4xxx).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_TRY_AGAIN = 1013
CLOSE_SERVICE_RESTART = 1012
CLOSE_UNAUTHORIZED = 4001
# A widget socket whose key no longer admits it: the key was rotated or its space deleted. The
# widget should not reconnect with that key (the handshake now answers 404).
CLOSE_KEY_REVOKED = 4004
CLOSE_FLOODING = 4008


class ChatError(Exception):
    """A failure the client caused or must hear about; `code` is the contract's error code."""

    code = "internal"
    status = 500

    def __init__(self, message: str | None = None, **details: object) -> None:
        super().__init__(message or self.__doc__ or self.code)
        self.message = message or (self.__doc__ or self.code).strip()
        self.details = details


class InvalidError(ChatError):
    """The request is malformed."""

    code = "invalid"
    status = 400


class TooLongError(ChatError):
    """The content is longer than allowed."""

    code = "too_long"
    status = 400


class RateLimitedError(ChatError):
    """Too many messages; slow down."""

    code = "rate_limited"
    status = 429

    def __init__(
        self, message: str | None = None, *, retry_after: int | None = None, **details: object
    ) -> None:
        super().__init__(message, **details)
        # Whole seconds (>= 1) until a retry may pass; REST answers send it as Retry-After.
        self.retry_after = retry_after


class QueueFullError(ChatError):
    """Every agent is busy right now; leave your details and we will get back to you."""

    code = "queue_full"
    status = 409


class ThreadClosedError(ChatError):
    """The thread is closed."""

    code = "thread_closed"
    status = 409


class UnsupportedMediaTypeError(ChatError):
    """The body's Content-Type is not one this route reads."""

    code = "unsupported_media_type"
    status = 415


class VisitorBusyError(ChatError):
    """The visitor has another open conversation; a closed one cannot reopen beside it."""

    code = "visitor_busy"
    status = 409


class NotFoundError(ChatError):
    """Not found."""

    code = "not_found"
    status = 404


class ThreadNotFoundError(NotFoundError):
    """No such thread."""


class AlreadyClaimedError(ChatError):
    """Another agent holds this thread."""

    code = "already_claimed"
    status = 409


class ForbiddenError(ChatError):
    """You are not allowed to do that."""

    code = "forbidden"
    status = 403


class NotHolderError(ForbiddenError):
    """Only the agent holding this conversation, or a supervisor, may do that."""


class NotAssignedError(ChatError):
    """No agent holds this conversation now; a whisper goes to the agent holding it."""

    code = "not_assigned"
    status = 409


class AgentUnavailableError(ChatError):
    """That agent is not accepting chats; a supervisor may force the transfer."""

    code = "agent_unavailable"
    status = 409


class AgentAtCapacityError(ChatError):
    """That agent already has as many active chats as allowed; a supervisor may force the
    transfer."""

    code = "agent_at_capacity"
    status = 409


class UnauthorizedError(ChatError):
    """Missing, invalid or expired credentials."""

    code = "unauthorized"
    status = 401


class InvalidCredentialsError(UnauthorizedError):
    """Wrong email or password."""

    code = "invalid_credentials"


class OriginNotAllowedError(ForbiddenError):
    """This origin may not use the widget."""

    code = "origin_not_allowed"


class EmailTakenError(ChatError):
    """That email is already registered."""

    code = "email_taken"
    status = 409


class RegistrationFailedError(ChatError):
    """Registration with these details is not possible; if you have an account, sign in."""

    code = "registration_failed"
    status = 409


class CursorExpiredError(ChatError):
    """The cursor is older than the retained stream; reload the state over REST."""

    code = "cursor_expired"
    status = 410


class UnavailableError(ChatError):
    """The service cannot reach its storage right now; retry (the same client_id is safe)."""

    code = "unavailable"
    status = 503


class LastAdminError(ChatError):
    """The organization's last admin cannot be demoted or deleted; make another admin first."""

    code = "last_admin"
    status = 409


class WrongPasswordError(ForbiddenError):
    """The current password is wrong."""

    code = "wrong_password"


class FieldInvalidError(ChatError):
    """A field names something that does not exist or cannot be used: answered like a field
    that fails validation (422 invalid, `details` naming the field)."""

    code = "invalid"
    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class GroupNameTakenError(ChatError):
    """Another group of the organization already has that name."""

    code = "name_taken"
    status = 409


class GroupLimitError(ChatError):
    """The organization has as many groups as allowed; delete one first."""

    code = "too_many_groups"
    status = 409


class ShortcutTakenError(ChatError):
    """Another live canned response of the same scope already has that shortcut."""

    code = "shortcut_taken"
    status = 409


class CannedResponseLimitError(ChatError):
    """As many canned responses of this scope as allowed; delete one first."""

    code = "too_many_canned_responses"
    status = 409


class TagNameTakenError(ChatError):
    """Another tag of the organization already has that name (in any case)."""

    code = "name_taken"
    status = 409


class TagLimitError(ChatError):
    """The organization has as many tags as allowed; delete one first."""

    code = "too_many_tags"
    status = 409


class FileTooLargeError(ChatError):
    """An attachment over its space's `attachment_max_bytes`."""

    code = "too_large"
    status = 413


class FileTypeNotAllowedError(UnsupportedMediaTypeError):
    """An attachment whose sniffed content is not of a kind its space allows (HTML and SVG never
    are): the declared type and the file name are never trusted."""

    code = "file_type_not_allowed"


class ThreadOpenError(ChatError):
    """The conversation is still open: close it before deleting it."""

    code = "thread_open"
    status = 409


class IdentityInvalidError(ChatError):
    """The identity token is not one this space signed (structures.md, "Signed visitor
    identity"): a bad signature or algorithm, a missing claim, a lifetime over the cap."""

    code = "identity_invalid"
    status = 401


class IdentityExpiredError(IdentityInvalidError):
    """The identity token has expired: the host site signs a fresh one."""

    code = "identity_expired"


class IdentityRequiredError(ForbiddenError):
    """This site lets only signed-in users chat: sign in on the site first."""

    code = "identity_required"


class VerifiedVisitorError(ForbiddenError):
    """This visitor is verified: only a signed identity token changes who they are."""

    code = "identity_verified"


class MissingScopeError(ForbiddenError):
    """This API key lacks the scope this route needs."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"this API key lacks the {scope!r} scope", required_scope=scope)


class ApiKeyLimitError(ChatError):
    """The organization has as many live API keys as allowed; revoke one first."""

    code = "too_many_api_keys"
    status = 409


# Two-factor sign-in (chat/http/api/two_factor.py, structures.md "Two-factor sign-in").
class TwoFactorCodeRequiredError(UnauthorizedError):
    """The password is right; this agent signs in with a code from their authenticator app (or a
    recovery code) too: send it with `details.challenge_token` to /auth/login/second-factor."""

    code = "two_factor_code_required"


class TwoFactorRequiredError(ForbiddenError):
    """The organization requires two-factor sign-in and this agent has not enrolled: enrol with
    `details.enrolment_token` (/auth/two-factor/enrol, then /auth/two-factor/confirm)."""

    code = "two_factor_required"


class InvalidTwoFactorCodeError(UnauthorizedError):
    """The code is wrong, expired, or was used already."""

    code = "invalid_two_factor_code"


class TwoFactorEnabledError(ChatError):
    """Two-factor sign-in is on for this agent already: disable it first to enrol anew."""

    code = "two_factor_enabled"
    status = 409


class TwoFactorNotEnabledError(ChatError):
    """Two-factor sign-in is not on for this agent (or no enrolment is waiting to be confirmed)."""

    code = "two_factor_not_enabled"
    status = 409


class TwoFactorMandatoryError(ChatError):
    """The organization requires two-factor sign-in: it cannot be turned off (an admin can reset
    an agent who lost their device, and the agent enrols again)."""

    code = "two_factor_mandatory"
    status = 409


class WebhookDestinationError(ChatError):
    """A webhook URL that may not be called: not http(s), or a private, loopback or link-local
    destination the operator does not allow (SSRF). A route answers it as 422 on field `url`."""

    code = "invalid"
    status = 422


class WebhookLimitError(ChatError):
    """The organization has as many webhooks as it may."""

    code = "too_many_webhooks"
    status = 409


class AlreadyRatedError(ChatError):
    """The conversation has a rating already: one per conversation, the first one stays
    (structures.md, "Ratings")."""

    code = "already_rated"
    status = 409


class ThreadNotFinishedError(ChatError):
    """The conversation is still open: a rating comes once it has closed or expired."""

    code = "thread_open"
    status = 409
