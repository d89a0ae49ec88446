"""forkline.core for sluice: the redaction API."""
from .redaction import (RedactionAction, RedactionPolicy, RedactionRule,
                        create_default_policy)

__all__ = ["RedactionAction", "RedactionPolicy", "RedactionRule",
           "create_default_policy"]
