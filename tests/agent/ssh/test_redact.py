"""agent/redact.py: device config echoes and known secrets masked, keywords kept, other lines untouched."""

from __future__ import annotations

import pytest

from agent import logsetup
from agent.redact import MASK, LineRedactor, redact, redact_line

CISCO_IOS = """\
Building configuration...

Current configuration : 4211 bytes
!
version 15.2
service timestamps debug datetime msec
no service password-encryption
!
hostname core-1
!
enable secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM
!
username admin privilege 15 secret 5 $1$clqS$3CzLxkeHVJ9OYW83DOjuN/
username backup password 7 0822455D0A16544541
username cisco privilege 15 password 0 cisco123
!
key chain OSPF-KEYS
 key 1
  key-string 7 105A0C1B1C5A4F1E
!
crypto isakmp key 6 Vig1lPSK address 203.0.113.7
crypto keyring VPN
  pre-shared-key address 198.51.100.1 key Sup3rPSK
!
interface GigabitEthernet0/1
 description uplink to dist-1
 ip address 10.0.0.1 255.255.255.252
 ip ospf authentication-key 7 045802150C2E
 ip ospf message-digest-key 1 md5 7 1511021F0725
 standby 1 authentication md5 key-string Hsrp-Key
!
router bgp 65000
 neighbor 10.0.0.2 remote-as 65001
 neighbor 10.0.0.2 password 7 02050D480809
 neighbor 10.0.0.2 send-community both
!
snmp-server community public RO 10
snmp-server community Wr1teC0mm RW
snmp-server user monitor NMS v3 auth sha AuthPass123 priv aes 128 PrivPass456
snmp-server host 10.9.9.9 version 2c TrapC0mm
tacacs-server key 7 0702325C4B0A1B
tacacs server TAC1
 address ipv4 10.1.1.5
 key 7 13061E010803
radius-server key Rad1usKey
!
line vty 0 4
 password 7 121A0C041104
 login local
end
"""

CISCO_IOS_MASKED_VALUES = [
    "$9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM", "$1$clqS$3CzLxkeHVJ9OYW83DOjuN/",
    "0822455D0A16544541", "cisco123", "105A0C1B1C5A4F1E", "Vig1lPSK", "Sup3rPSK", "045802150C2E", "1511021F0725",
    "Hsrp-Key", "02050D480809", "Wr1teC0mm", "AuthPass123", "PrivPass456", "TrapC0mm", "0702325C4B0A1B",
    "13061E010803", "Rad1usKey", "121A0C041104",
]

HUAWEI_VRP = """\
!Software Version V200R011C10SPC600
#
sysname vrp-core-1
#
aaa
 authentication-scheme default
 local-user admin password irreversible-cipher $1a$Zx1ObqR3Y.$5W0pD)Q9c~l7N2e$
 local-user netops password cipher %@%@Ha*R1)!]T3%@%@
 local-user admin privilege level 15
 local-user admin service-type terminal ssh
#
radius-server template RADIUS1
 radius-server shared-key cipher %^%#q1w2e3r4t5%^%#
hwtacacs-server template TAC
 hwtacacs-server shared-key Plain7acacs
#
snmp-agent
snmp-agent community read cipher %^%#K[&`Jc~_4H-~.>0:m%dK:*7s,{(3i02`R$>&n}+56Pb%^%# mib-view iso-view
snmp-agent community write Wr1teHw
snmp-agent usm-user v3 nms authentication-mode sha cipher %^%#AuthCipher%^%# privacy-mode aes128 cipher %^%#PrivCipher%^%#
#
ospf 1
 area 0.0.0.0
  authentication-mode md5 1 cipher %^%#OspfKey%^%#
#
interface Vlanif10
 ospf authentication-mode hmac-sha256 2 cipher %^%#Ospf2Key%^%#
#
ike peer branch
 pre-shared-key cipher %^%#IkeKey%^%#
#
user-interface vty 0 4
 authentication-mode password
 set authentication password cipher %^%#VtyPass%^%#
#
super password level 15 cipher %^%#SuperPass%^%#
return
"""
HUAWEI_DISPLAY_COMMUNITY = """\
   Community name: %^%#K[&`Jc~_4H-~.>0:m%dK:*7s,{(3i02`R$>&n}+56Pb'@]rd}NT%^%#
   Group name: %^%#K[&`Jc~_4H-~.>0:m%dK:*7s,{(3i02`R$>&n}+56Pb'@]rd}NT%^%#
   Acl: 2001
   Storage-type: nonVolatile
"""

H3C_COMWARE = """\
#
 version 7.1.070, Release 3208P10
#
 sysname h3c-access-1
#
 snmp-agent community read simple H3cRead acl 2000
 snmp-agent community write cipher $c$3$Qj7Tr4yGH0lZlZBM4q1Kd3JZ
 snmp-agent usm-user v3 nms nmsgroup simple authentication-mode sha H3cAuthKey privacy-mode aes128 H3cPrivKey
#
radius scheme rad
 primary authentication 10.1.1.5
 key authentication cipher $c$3$k8SVbzq3WbKWWt7K
 key accounting simple H3cAcct
#
local-user admin class manage
 password hash $h$6$Hk2vTqCq3sPm0Gjx$vigilhash==
 service-type ssh terminal
local-user guest class manage
 password simple G3stPass
#
super password role network-admin simple SuperH3c
#
ike keychain kc1
 pre-shared-key address 192.0.2.10 255.255.255.255 key simple H3cPsk
#
"""

LINUX_SNMPD = """\
# /etc/snmp/snmpd.conf
agentAddress udp:161
rocommunity  LinuxRo default -V systemonly
rocommunity6 LinuxRo6 default -V systemonly
rwcommunity  LinuxRw 10.0.0.0/8
com2sec notConfigUser default LinuxCom2sec
trap2sink 10.9.9.9 LinuxTrap
createUser nms SHA "linux auth pass" AES LinuxPriv
sysLocation Server room 2
"""

LINUX_FILES = """\
root:$6$rOuNdS$abcdefghijklmnopqrstuv0123456789:19700:0:99999:7:::
daemon:*:19700:0:99999:7:::
DB_PASSWORD=Hunter2db
export API_TOKEN="tok-123 456"
mysql_password: 'pa ss'
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACDd0+I9m2wdQ0Jkq1fZyFvnVSOrE5VUGnW3dVfK9m0fgAAAJj0Ja7n9CWu5
-----END OPENSSH PRIVATE KEY-----
uptime: 12 days
"""


def _assert_masked(masked: str, values: list[str]) -> None:
    for value in values:
        assert value not in masked, f"{value!r} leaked"


def test_cisco_ios_running_config() -> None:
    masked = redact(CISCO_IOS)
    _assert_masked(masked, CISCO_IOS_MASKED_VALUES)
    lines = masked.splitlines()
    # The keyword and the storage type stay: an engineer still sees that a secret is set, and how.
    assert f"enable secret 9 {MASK}" in lines
    assert f"username backup password 7 {MASK}" in lines
    assert f"username admin privilege 15 secret 5 {MASK}" in lines
    assert f"snmp-server community {MASK} RO 10" in lines
    assert f"snmp-server host 10.9.9.9 version 2c {MASK}" in lines
    assert f"snmp-server user monitor NMS v3 auth sha {MASK} priv aes 128 {MASK}" in lines
    assert f"crypto isakmp key 6 {MASK} address 203.0.113.7" in lines
    assert f"  pre-shared-key address 198.51.100.1 key {MASK}" in lines
    assert f"  key-string 7 {MASK}" in lines
    assert f" key 7 {MASK}" in lines
    # What is not a secret is left alone.
    for kept in ("no service password-encryption", " key 1", " neighbor 10.0.0.2 send-community both",
                 " ip address 10.0.0.1 255.255.255.252", "Current configuration : 4211 bytes", " login local"):
        assert kept in lines


def test_huawei_vrp_config_and_display_output() -> None:
    masked = redact(HUAWEI_VRP)
    _assert_masked(masked, ["$1a$Zx1ObqR3Y.$5W0pD)Q9c~l7N2e$", "Ha*R1)!]T3", "q1w2e3r4t5", "Plain7acacs", "K[&`Jc~",
                            "Wr1teHw", "AuthCipher", "PrivCipher", "OspfKey", "Ospf2Key", "IkeKey", "VtyPass", "SuperPass"])
    lines = masked.splitlines()
    assert f" local-user admin password irreversible-cipher {MASK}" in lines
    assert f"snmp-agent community read cipher {MASK} mib-view iso-view" in lines
    assert f"snmp-agent community write {MASK}" in lines
    assert f"  authentication-mode md5 1 cipher {MASK}" in lines
    assert f" radius-server shared-key cipher {MASK}" in lines
    for kept in (" authentication-mode password", " local-user admin privilege level 15", "sysname vrp-core-1"):
        assert kept in lines
    shown = redact(HUAWEI_DISPLAY_COMMUNITY)
    assert "K[&`Jc~" not in shown
    assert f"   Community name: {MASK}" in shown.splitlines()
    assert "   Acl: 2001" in shown.splitlines()


def test_h3c_comware_config() -> None:
    masked = redact(H3C_COMWARE)
    _assert_masked(masked, ["H3cRead", "Qj7Tr4yGH0lZlZBM4q1Kd3JZ", "H3cAuthKey", "H3cPrivKey", "k8SVbzq3WbKWWt7K",
                            "H3cAcct", "Hk2vTqCq3sPm0Gjx", "G3stPass", "SuperH3c", "H3cPsk"])
    lines = masked.splitlines()
    assert f" snmp-agent community read simple {MASK} acl 2000" in lines
    assert f" password hash {MASK}" in lines
    assert f" key accounting simple {MASK}" in lines
    assert " service-type ssh terminal" in lines


def test_linux_snmpd_conf_shadow_env_and_private_keys() -> None:
    masked = redact(LINUX_SNMPD + LINUX_FILES)
    _assert_masked(masked, ["LinuxRo", "LinuxRw", "LinuxCom2sec", "LinuxTrap", "linux auth pass", "LinuxPriv",
                            "rOuNdS", "Hunter2db", "tok-123", "pa ss", "b3BlbnNzaC1rZXkt", "QyNTUxOQAAACDd0"])
    lines = masked.splitlines()
    assert f"rocommunity  {MASK} default -V systemonly" in lines
    assert f"com2sec notConfigUser default {MASK}" in lines
    assert f"createUser nms SHA {MASK} AES {MASK}" in lines
    assert f"root:{MASK}:19700:0:99999:7:::" in lines
    assert "-----BEGIN OPENSSH PRIVATE KEY-----" in lines and "-----END OPENSSH PRIVATE KEY-----" in lines
    for kept in ("daemon:*:19700:0:99999:7:::", "sysLocation Server room 2", "agentAddress udp:161", "uptime: 12 days"):
        assert kept in lines


def test_known_secrets_and_registered_ones_are_masked_anywhere() -> None:
    logsetup.register_secret("registered-s3cret")
    text = "login as operator with Op3rator!Pw, token registered-s3cret, short ab"
    masked = redact(text, secrets=["Op3rator!Pw", "ab"])
    assert "Op3rator!Pw" not in masked and "registered-s3cret" not in masked
    assert masked.endswith("short ab")      # secrets shorter than 3 characters would mask ordinary words


def test_streamed_line_by_line_gives_the_same_as_the_whole_text() -> None:
    for text in (CISCO_IOS, HUAWEI_VRP, H3C_COMWARE, LINUX_SNMPD + LINUX_FILES):
        redactor = LineRedactor(["Hunter2db"])
        assert "\n".join(redactor(line) for line in text.split("\n")) == redact(text, ["Hunter2db"])


def test_redaction_is_idempotent_and_keeps_line_endings() -> None:
    text = "snmp-server community public RO\r\nhostname x\r\n"
    once = redact(text)
    assert once == f"snmp-server community {MASK} RO\r\nhostname x\r\n"
    assert redact(once) == once


@pytest.mark.parametrize("line", [
    "Interface GigabitEthernet0/1 is up, line protocol is up",
    "  5 minute input rate 1000 bits/sec, 2 packets/sec",
    " set community 65000:100 additive",
    "ip community-list standard CUST permit 65000:100",
    "CPU utilization for five seconds: 7%/1%; one minute: 6%; five minutes: 5%",
    "Memory Using Percentage Is: 43%",
])
def test_ordinary_output_lines_are_untouched(line: str) -> None:
    assert redact_line(line) == line
