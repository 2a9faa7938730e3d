"""[identity], [token], [fernet_tokens]: the identity service."""

from oslo_config import cfg

IDENTITY_OPTS = [
    cfg.StrOpt("default_domain_id", default="default",
               help="ID of the domain users and projects land in when none is given."),
    cfg.IntOpt("password_hash_rounds", default=12, min=4, max=31,
               help="bcrypt cost factor for stored passwords (Keystone's default is 12)."),
    cfg.IntOpt("max_password_length", default=4096, min=8,
               help="Longest password accepted."),
]

TOKEN_OPTS = [
    cfg.IntOpt("expiration", default=3600, min=60, help="Token lifetime in seconds."),
    cfg.IntOpt("cache_size", default=4096, min=0,
               help="Validated tokens each API worker keeps in memory; every identity "
                    "change invalidates the whole cache."),
]

FERNET_OPTS = [
    cfg.StrOpt("key_repository", default="/etc/stratus/fernet-keys",
               help="Directory holding the Fernet keys; `stratus-manage fernet setup` fills it."),
    cfg.IntOpt("max_active_keys", default=3, min=2,
               help="Keys kept after a rotation (primary, secondaries and staged)."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(IDENTITY_OPTS, group="identity")
    conf.register_opts(TOKEN_OPTS, group="token")
    conf.register_opts(FERNET_OPTS, group="fernet_tokens")


def list_opts():
    return [("identity", IDENTITY_OPTS), ("token", TOKEN_OPTS), ("fernet_tokens", FERNET_OPTS)]
