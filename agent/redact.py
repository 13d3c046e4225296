"""Mask secrets in what devices print: config echoes and the agent's own credentials.

`agent.logsetup` masks the credentials the agent knows (registered from its
config) in log lines. Device output needs more: a `show running-config` or
`cat /etc/snmp/snmpd.conf` prints secrets the agent was never told —
`snmp-server community …`, `password 7 …`, `local-user … password cipher …`,
`rocommunity …`, private key blocks. Each rule below keeps the keyword and
masks only the value with `******`, so an engineer still sees *that* a
password is set and where. Rules are per line; `LineRedactor` carries the
one piece of state that spans lines (inside a PEM private key block), so
streamed output is masked line by line exactly as a whole text would be.

Over-masking an odd line (`password encryption aes` → `password ****** aes`)
is accepted; letting one secret through is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from agent import logsetup

MASK = logsetup.MASK

# A value: a quoted string (snmpd.conf, shell files) or one word.
_V = r"""("[^"\n]*"|'[^'\n]*'|\S+)"""
# Words that say how a secret is stored, and stay visible: `password 7 X`, `password cipher X`, …
_HOW = r"(?:(?:[0-9]|cipher|simple|plain|hash|irreversible-cipher|encrypted|sha256|md5|sha512|scrypt|ascii|hex)\s+)?"

_RULES: list[tuple[str, re.Pattern[str]]] = [(trigger, re.compile(pattern, re.IGNORECASE)) for trigger, pattern in [
    # ---- SNMP communities (Cisco IOS, Huawei VRP, H3C Comware)
    # snmp-server community public RO 10 / snmp-agent community read cipher %^%#…%^%# / … write simple private
    ("communit", r"\bsnmp-(?:server|agent)\s+community\s+(?:(?:read|write)\s+)?" + _HOW + _V),
    # snmp-server host 10.0.0.9 [traps|informs] [version 2c|3 priv] COMMUNITY …
    ("snmp-server host", r"\bsnmp-server\s+host\s+\S+\s+(?:(?:traps|informs)\s+)?"
                         r"(?:version\s+(?:1|2c|3\s+(?:auth|noauth|priv))\s+)?(?!version\b)" + _V),
    # show snmp community: "Community name: public", "Community SecurityName: public"
    ("community", r"\bcommunity\s+(?:name|securityname)\s*:\s*" + _V),
    # snmp-server user u g v3 auth sha AUTHPASS priv aes 128 PRIVPASS
    ("snmp-server user", r"\b(?:auth\s+(?:md5|sha\S*)|priv\s+(?:des|3des|aes(?:\s+\d+)?))\s+" + _V),
    # snmp-agent usm-user v3 u [g] [cipher|simple] authentication-mode sha KEY privacy-mode aes128 KEY
    ("usm-user", r"\b(?:authentication-mode|privacy-mode)\s+\S+\s+" + _HOW + _V),
    # ---- Net-SNMP snmpd.conf (Linux)
    ("communit", r"^\s*(?:ro|rw)community6?\s+" + _V),
    ("com2sec", r"^\s*com2sec6?\s+(?:-Cn\s+\S+\s+)?\S+\s+\S+\s+" + _V),
    ("sink", r"^\s*(?:trap2?sink|informsink)\s+\S+\s+" + _V),
    ("trapcommunity", r"^\s*trapcommunity\s+" + _V),
    ("createuser", r"^\s*createUser\s+(?:-e\s+\S+\s+)?\S+\s+(?:MD5|SHA\S*)\s+" + _V),
    ("createuser", r"^\s*createUser\s+.*?\s(?:DES|AES\S*)\s+" + _V),
    # ---- passwords and secrets in device configs
    # enable secret 9 $9$…, username admin privilege 15 secret 5 $1$…, password 7 0822…,
    # local-user admin password irreversible-cipher $1a$…, password hash $h$6$…, super password level 3 cipher …
    ("password", r"\bpassword\s+(?:level\s+\d+\s+|role\s+\S+\s+)?" + _HOW + _V),
    ("secret", r"\bsecret\s+" + _HOW + _V),
    # key chain / HSRP: key-string 7 …, key-string MyKey
    ("key-string", r"\bkey-string\s+" + _HOW + _V),
    # IKE: pre-shared-key [address A] [key] X; Huawei/H3C: pre-shared-key cipher|simple X
    ("pre-shared-key", r"\bpre-shared-key\s+(?:address\s+\S+(?:\s+\S+)?\s+)?(?:key\s+)?" + _HOW + _V),
    # crypto isakmp key 6 X address 1.2.3.4; tacacs-server key 7 X; radius-server key X
    ("key", r"\b(?:isakmp|tacacs-server|radius-server)\s+key\s+" + _HOW + _V),
    # key 7 X inside a tacacs/radius server block (a bare `key 1` is a key chain's id: left alone)
    ("key", r"^\s*key\s+(?:[0-9]\s+)" + _V),
    # H3C radius scheme: key authentication cipher X
    ("key", r"\bkey\s+(?:authentication|accounting)\s+" + _HOW + _V),
    # Huawei/H3C: radius-server shared-key cipher X; hwtacacs-server shared-key X
    ("shared-key", r"(?<!pre-)\bshared-key\s+" + _HOW + _V),
    # OSPF/IS-IS/BGP auth: authentication-mode md5 1 cipher X, authentication-mode simple cipher X
    ("authentication-mode", r"\bauthentication-mode\s+(?:\S+\s+)?(?:\d+\s+)?(?:cipher|simple|plain)\s+" + _V),
    ("authentication-key", r"\bauthentication-key\s+" + _HOW + _V),
    ("message-digest-key", r"\bmessage-digest-key\s+\d+\s+md5\s+" + _HOW + _V),
    ("wpa-psk", r"\bwpa-psk\s+(?:ascii|hex)\s+" + _HOW + _V),
    # ---- key = value files and environment dumps (Linux)
    ("", r"\b[\w.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|community|psk)[\w.-]*\s*[=:]\s*" + _V),
    # /etc/shadow: name:$6$salt$hash:…
    ("$", r"^[\w.-]+:(\$[^:\s]+)(?=:)"),
    # Huawei's reversible ciphers wherever they appear (%^%#…%^%#, %@%@…%@%@, %$%$…%$%$), H3C's $c$/$h$
    ("%", r"(%\^%#.*?%\^%#|%@%@.*?%@%@|%\$%\$.*?%\$%\$)"),
    ("$", r"(?<![\w$])(\$[ch]\$\d+\$\S+)"),
]]

_BEGIN_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_END_KEY = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY-----")


def _mask_group(match: re.Match[str]) -> str:
    start, end = match.span(1)
    base = match.start()
    text = match.group(0)
    return text[: start - base] + MASK + text[end - base:]


def _mask_secrets(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return logsetup.redact(text)


def redact_line(line: str, secrets: Iterable[str] = ()) -> str:
    """One line with config-echo values and known secrets masked (no state: see `LineRedactor`)."""
    lowered = line.lower()
    for trigger, rule in _RULES:
        if trigger in lowered:
            line = rule.sub(_mask_group, line)
    return _mask_secrets(line, secrets)


class LineRedactor:
    """Masks streamed output line by line; also masks the body of PEM private key blocks."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = tuple(secrets)
        self._in_key = False

    def __call__(self, line: str) -> str:
        if self._in_key:
            if _END_KEY.search(line):
                self._in_key = False
                return line
            return MASK
        if _BEGIN_KEY.search(line):
            self._in_key = not _END_KEY.search(line)
            return line if self._in_key else _one_line_key(line)
        return redact_line(line, self.secrets)


def _one_line_key(line: str) -> str:
    return re.sub(r"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----).*?(-----END [A-Z0-9 ]*PRIVATE KEY-----)",
                  lambda m: m.group(1) + MASK + m.group(2), line)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with device config secrets, the given `secrets` and the agent's registered ones masked."""
    redactor = LineRedactor(secrets)
    return "\n".join(redactor(line) for line in text.split("\n"))
