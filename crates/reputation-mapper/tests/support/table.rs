//! A small hand-written category table for tests, with the gaps of the published one (no 8,
//! 11, 12, 14, 18, 22, 32, 36). The feed uses `proofpoint-et-client`'s table instead.

use reputation_mapper::CategoryNames;

/// `categories.txt` as ET Intelligence documents it: ID and short name.
const CATEGORIES: &[(u16, &str)] = &[
    (1, "CnC"),
    (2, "Bot"),
    (3, "Spam"),
    (4, "Drop"),
    (5, "SpywareCnC"),
    (6, "OnlineGaming"),
    (7, "DriveBySrc"),
    (9, "ChatServer"),
    (10, "TorNode"),
    (13, "Compromised"),
    (15, "P2P"),
    (16, "Proxy"),
    (17, "IPCheck"),
    (19, "Utility"),
    (20, "DDoSTarget"),
    (21, "Scanner"),
    (23, "Brute_Forcer"),
    (24, "FakeAV"),
    (25, "DynDNS"),
    (26, "Undesirable"),
    (27, "AbusedTLD"),
    (28, "SelfSignedSSL"),
    (29, "Blackhole"),
    (30, "RemoteAccessService"),
    (31, "P2PCnC"),
    (33, "Parking"),
    (34, "VPN"),
    (35, "EXE_Source"),
    (37, "Mobile_CnC"),
    (38, "Mobile_Spyware_CnC"),
    (39, "Skype_SuperNode"),
    (40, "Bitcoin_Related"),
    (41, "DDoSAttacker"),
];

/// The table above as [`CategoryNames`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TestCategories;

impl CategoryNames for TestCategories {
    fn name(&self, id: u16) -> Option<&str> {
        CATEGORIES
            .iter()
            .find(|(known, _)| *known == id)
            .map(|(_, name)| *name)
    }

    fn id_by_name(&self, name: &str) -> Option<u16> {
        CATEGORIES
            .iter()
            .find(|(_, known)| *known == name)
            .map(|(id, _)| *id)
    }
}
