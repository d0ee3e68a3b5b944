"""Exceptions raised by the consent kernel.

Messages name what went wrong (a key id, a table/column, a problem code) but never
contain plaintext, key material or ciphertext: they end up in logs and error pages.
"""

from __future__ import annotations


class ConsentKernelError(Exception):
    """Base class of every error the consent kernel raises on purpose."""


class DecryptionFailed(ConsentKernelError):
    """A ciphertext or wrapped key did not authenticate.

    Causes: wrong key, ciphertext moved to another row/column/family/tenant, or
    tampered/truncated bytes. The message never contains plaintext.
    """


class UnsupportedFormat(DecryptionFailed):
    """The blob carries a format/version byte this kernel does not understand."""


class UnknownKey(ConsentKernelError):
    """A key id is not (or no longer) present in the keyring."""


class KeyringError(ConsentKernelError):
    """The keyring is malformed or an operation on it is not allowed."""


class ChainError(ConsentKernelError):
    """An audit-chain checkpoint line is malformed or its signature is wrong."""
