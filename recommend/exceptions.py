from django.utils.translation import gettext_lazy as _

from config.api.errors import Conflict, DomainError


class TrainingLocked(Conflict):
    code = "training_running"
    message = _("A training run is already in progress.")


class RollbackImpossible(Conflict):
    code = "rollback_impossible"
    message = _("This version cannot be made live.")


class BadParameter(DomainError):
    code = "invalid_parameter"
    message = _("A parameter is invalid.")
