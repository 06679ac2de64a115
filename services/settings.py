"""Every ``CARELOG_*`` environment variable with what it sets: the table README's
"Configuration" and the compose files are checked against (``Config.from_env`` reads them).
"""

from __future__ import annotations

from services.feeds.kafka_security import SETTINGS as KAFKA_SECURITY_SETTINGS

SETTINGS: dict[str, str] = {
    "CARELOG_DATABASE_URL": "Event store: sqlite:///PATH (default ./var/carelog.db) or "
    "postgresql://user[:password]@host:port/db[?sslmode=verify-full&sslrootcert=...]: "
    "libpq parameters in the query (sslmode, sslrootcert, sslcert, sslkey, sslpassword, "
    "target_session_attrs, connect_timeout, application_name, passfile, ...) reach every "
    "connection; schema=NAME picks a schema",
    "CARELOG_VIEWS_URL": "Views, staff registry and access log; default: beside a SQLite "
    "event store (PATH-views.db), the same database for PostgreSQL",
    "CARELOG_KAFKA_BOOTSTRAP": "Kafka bootstrap servers (host:port,...); unset: no Kafka",
    "CARELOG_KAFKA_PARTITIONS": "Partitions for topics the relay creates (default 6)",
    "CARELOG_KAFKA_REPLICATION": "Replication factor for topics the relay creates (default 1; "
    "3 on a production cluster)",
    "CARELOG_KAFKA_CLIENT_ID": "Client id the relay and subscribers give the broker "
    "(default carelog)",
    **KAFKA_SECURITY_SETTINGS,
    "CARELOG_RELAY_BATCH_SIZE": "Events the relay publishes per acknowledged batch; a crash "
    "re-publishes at most one batch (default 1000)",
    "CARELOG_CIPHER_KEY": "AES key (base64) to encrypt event state at rest; unset: clear",
    "CARELOG_CHECKPOINT_DIR": "Where signed audit checkpoints are written (default: one "
    "folder per store: DB.checkpoints beside a SQLite file, "
    "./var/pg-HOST-PORT-DB-SCHEMA.checkpoints for PostgreSQL)",
    "CARELOG_SIGNING_KEY": "Ed25519 private key file for checkpoints (default "
    "$XDG_CONFIG_HOME/carelog/signing.key, i.e. ~/.config/carelog/: outside the data)",
    "CARELOG_CHECKPOINT_GRACE": "Seconds past the signing interval that records may stay "
    "unsigned before a pinned `carelog verify` calls it an unsigned tail (default 60)",
    "CARELOG_WITNESS_FILE": "A witness file (JSON lines) each new checkpoint is appended to, "
    "e.g. on storage the database owner cannot rewrite; unset: none",
    "CARELOG_CHECKPOINT_INTERVAL": "Seconds between signed audit checkpoints in the "
    "worker (default 60; 0 = only on demand)",
    "CARELOG_FOLLOW_UP_DAYS": "Days after a dose change when the check-in is due (default 14)",
    "CARELOG_GROUP_COMMIT_MS": "Group-commit window for writes in ms; 0 turns it off (default 2)",
    "CARELOG_SNAPSHOT_INTERVAL": "Snapshot a patient record every N events (default 50)",
    "CARELOG_RECORD_CACHE": "Patient records kept in memory per process between commands, "
    "brought up to date from the log on each use (default 1000; 0 = off)",
    "CARELOG_HISTORY_CACHE": "Events of patient streams kept in memory per process for "
    "point-in-time reads (as known at T, in effect at T), with plan checkpoints every 256 "
    "events, about 5.5 KiB each, brought up to date from the log on each use "
    "(default 20000; 0 = off)",
    "CARELOG_RUN_PROJECTIONS": "Run the view runner inside the API process (default 1)",
    "CARELOG_VIEWS_WAIT_SECONDS": "Longest a read waits for the views to reach the position it "
    "needs (min_position, the pages) before answering 503 or marking itself behind (default 2)",
    "CARELOG_SECRET_KEY": (
        "Key signing the web pages' session cookie (default: made once, kept 0600 beside "
        "the store as STORE.session-key)"
    ),
    "CARELOG_POOL_SIZE": "PostgreSQL connections per pool (default 5)",
    "CARELOG_RULE_PACK": "A clinical rule pack file (JSON) to use instead of the shipped "
    "domain/safety/rulepack.json; checked at start-up",
    "CARELOG_SIGN_IN_FAILURES_PER_ID": "Failed sign-ins (page or bearer token) a staff id may "
    "have within the window before further attempts get 429 (default 10)",
    "CARELOG_SIGN_IN_FAILURES_PER_SOURCE": "Failed sign-ins one client address may have within "
    "the window before further attempts get 429 (default 100)",
    "CARELOG_SIGN_IN_WINDOW": "Seconds the sign-in failure limits count over (default 300)",
    "CARELOG_MAX_REQUEST_BYTES": "Largest request body the HTTP API accepts, in bytes; "
    "larger ones are answered 413 unread (default 1048576, 1 MiB)",
    "CARELOG_OIDC_ISSUER": "Single sign-on: the OpenID Connect provider's issuer URL (its "
    "/.well-known/openid-configuration is read from there); unset: no single sign-on",
    "CARELOG_OIDC_CLIENT_ID": "Single sign-on: CareLog's client id at the provider (pages)",
    "CARELOG_OIDC_CLIENT_SECRET": "Single sign-on: CareLog's client secret at the provider",
    "CARELOG_OIDC_AUDIENCE": "Single sign-on: the audience (aud) the provider puts in access "
    "tokens for CareLog's API; unset: bearer JWTs are refused",
    "CARELOG_OIDC_ALLOWED_CLIENTS": "Single sign-on: further client ids (comma-separated) "
    "whose access tokens the API accepts, beside CARELOG_OIDC_CLIENT_ID (checked against the "
    "token's azp or client_id); neither set: any client's tokens for the audience",
    "CARELOG_OIDC_BASE_URL": "Single sign-on: CareLog's public URL (https://carelog.example."
    "org); the redirect URI is BASE_URL/login/oidc/callback",
    "CARELOG_OIDC_PROVIDER_NAME": "Single sign-on: the name on the sign-in button "
    "(default: your organisation)",
    "CARELOG_OIDC_SCOPES": "Single sign-on: scopes the pages ask for (default openid profile "
    "email offline_access)",
    "CARELOG_OIDC_ROLE_CLAIM": "Single sign-on: the claim holding the staff member's groups "
    "or roles (default groups)",
    "CARELOG_OIDC_ROLE_MAP": "Single sign-on: group=role pairs, comma-separated, e.g. "
    "carelog-psychiatrists=psychiatrist,carelog-pharmacists=pharmacist; a member of none "
    "gets 403",
    "CARELOG_OIDC_PRESCRIBER_GROUP": "Single sign-on: the group (in the role claim) that "
    "gives a pharmacist the prescriber privilege; unset: none",
    "CARELOG_OIDC_NAME_CLAIM": "Single sign-on: the claim naming the staff member (default name)",
    "CARELOG_OIDC_REVALIDATE_SECONDS": "Single sign-on: how often a page session is checked "
    "with the provider (refresh token, userinfo); a user removed there is signed out at "
    "the next check (default 300)",
    "CARELOG_OIDC_LEEWAY": "Single sign-on: seconds of clock skew allowed on exp/nbf/iat "
    "(default 30)",
    "CARELOG_KEK": "Key-encryption keys for envelope encryption with per-patient data keys, "
    "ID:BASE64 entries separated by commas, the first active (`carelog keys new-kek`); "
    "set: events are encrypted per patient (README, Deploying)",
    "CARELOG_KEK_FILE": "A file of key-encryption keys, one ID:BASE64 a line, the first active "
    "(after CARELOG_KEK's, if both are set)",
    "CARELOG_RETENTION_YEARS": "Retention period `carelog retention` measures from each "
    "patient's last event (default 10)",
    "CARELOG_RETENTION_DAYS": "Retention period in days instead of years (wins if both are set)",
}
