"""Envelope encryption with per-patient data keys, KEK rotation, retention and erasure.

``keyring`` (KEKs, the DEK cache, sealing and opening records), ``table`` (the key table
and its ordered migrations), ``mapper`` (the per-record key choice), ``rotation`` (rotate,
status, retire) and ``erasure`` (crypto-shredding, retention). README, "Deploying".
"""
