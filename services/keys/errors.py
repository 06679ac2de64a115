"""What goes wrong with encryption keys, said so an operator knows what to do.

Every message names the key-encryption key (KEK) and the patient or record that cannot be
read, never a stack trace: the CLI prints it, the API answers 503 with it.
"""

from __future__ import annotations

from domain.errors import CareLogError


class KeyUnavailableError(CareLogError):
    """A data key cannot be unwrapped (its KEK is not configured, or is not the key that
    wrapped it), or a record cannot be decrypted with its data key."""


class KeyConfigError(CareLogError):
    """``CARELOG_KEK`` / ``CARELOG_KEK_FILE`` cannot be read, or a key operation is refused
    (retiring a KEK that still wraps data keys, erasing without envelope encryption)."""
