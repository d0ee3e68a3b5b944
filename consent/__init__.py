"""Pure data-protection kernel of praevcase: crypto, consent policy, audit chain.

Imports only the standard library and ``cryptography``; never Flask, SQLAlchemy,
``praevcase`` or ``workflows``. Modules: ``crypto`` (envelope encryption, blind
indexes; ``keyring`` and ``blind_index`` behind it), ``scopes`` (purposes,
categories, legal bases), ``policy`` (the access decision), ``chain`` (hash-chained
audit log, signed checkpoints), ``errors``.
"""
