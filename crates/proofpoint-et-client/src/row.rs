//! The typed rows of a reputation list.
//!
//! A row borrows its text from the line it was read from, so that a parser can hand rows on
//! without allocating for each one; [`Row::to_owned`] makes an [`OwnedRow`] where a caller must
//! keep one.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::NaiveDate;

/// Which of the two list families a file belongs to.
///
/// It comes from the list's header word (`ip` or `domain`) or, where there is no header, from
/// the values themselves; never from the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ListKind {
    /// An IP list: addresses and CIDR blocks.
    Ip,
    /// A domain list: domain names and wildcard patterns.
    Domain,
}

impl ListKind {
    /// The header word of this kind's lists: `ip` or `domain`.
    pub fn header_word(self) -> &'static str {
        match self {
            ListKind::Ip => "ip",
            ListKind::Domain => "domain",
        }
    }
}

impl fmt::Display for ListKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.header_word())
    }
}

/// A CIDR block as a list writes it, such as `198.51.100.0/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CidrBlock {
    /// The network address as written (host bits are not cleared).
    pub addr: IpAddr,
    /// The prefix length: at most 32 for IPv4, 128 for IPv6.
    pub prefix: u8,
}

impl fmt::Display for CidrBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The value a row is about.
///
/// Domain names and wildcard patterns are the row's text, trimmed but otherwise as written
/// (case included): normalising them is the mapper's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Indicator<'a> {
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address.
    Ipv6(Ipv6Addr),
    /// A CIDR block, IPv4 or IPv6.
    Cidr(CidrBlock),
    /// A domain name.
    Domain(&'a str),
    /// A domain pattern with a `*` in it, such as `*.example.com` or `a*example.com`.
    Wildcard(&'a str),
}

impl Indicator<'_> {
    /// The list family a value of this variant belongs to.
    pub fn kind(&self) -> ListKind {
        match self {
            Indicator::Ipv4(_) | Indicator::Ipv6(_) | Indicator::Cidr(_) => ListKind::Ip,
            Indicator::Domain(_) | Indicator::Wildcard(_) => ListKind::Domain,
        }
    }

    /// An owned copy of this value.
    pub fn to_owned(&self) -> OwnedIndicator {
        match *self {
            Indicator::Ipv4(addr) => OwnedIndicator::Ipv4(addr),
            Indicator::Ipv6(addr) => OwnedIndicator::Ipv6(addr),
            Indicator::Cidr(block) => OwnedIndicator::Cidr(block),
            Indicator::Domain(name) => OwnedIndicator::Domain(name.to_owned()),
            Indicator::Wildcard(pattern) => OwnedIndicator::Wildcard(pattern.to_owned()),
        }
    }
}

impl fmt::Display for Indicator<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Indicator::Ipv4(addr) => addr.fmt(f),
            Indicator::Ipv6(addr) => addr.fmt(f),
            Indicator::Cidr(block) => block.fmt(f),
            Indicator::Domain(text) | Indicator::Wildcard(text) => f.write_str(text),
        }
    }
}

/// An owned [`Indicator`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OwnedIndicator {
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address.
    Ipv6(Ipv6Addr),
    /// A CIDR block.
    Cidr(CidrBlock),
    /// A domain name, as written.
    Domain(String),
    /// A domain pattern with a `*` in it, as written.
    Wildcard(String),
}

impl OwnedIndicator {
    /// This value borrowed as an [`Indicator`].
    pub fn as_indicator(&self) -> Indicator<'_> {
        match self {
            OwnedIndicator::Ipv4(addr) => Indicator::Ipv4(*addr),
            OwnedIndicator::Ipv6(addr) => Indicator::Ipv6(*addr),
            OwnedIndicator::Cidr(block) => Indicator::Cidr(*block),
            OwnedIndicator::Domain(name) => Indicator::Domain(name),
            OwnedIndicator::Wildcard(pattern) => Indicator::Wildcard(pattern),
        }
    }
}

/// A category as a list names it: by numeric ID (CSV lists) or by short name (JSON lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CategoryRef<'a> {
    /// A category ID, such as `10`. An ID in no table is data, not an error.
    Id(u16),
    /// A category short name, such as `TorNode`.
    Name(&'a str),
}

impl fmt::Display for CategoryRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CategoryRef::Id(id) => id.fmt(f),
            CategoryRef::Name(name) => f.write_str(name),
        }
    }
}

/// A reputation score: 0 to 127, higher is worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Score(u8);

impl Score {
    /// The highest score a list can give.
    pub const MAX: Score = Score(127);

    /// A score, or `None` above 127.
    pub fn new(value: u8) -> Option<Score> {
        (value <= Self::MAX.0).then_some(Score(value))
    }

    /// The score as a number.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The ports of a detailed row, as the list writes them: separated by spaces or `|`, possibly
/// empty. They are kept as text and read on demand, since few callers need them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ports<'a>(&'a str);

impl<'a> Ports<'a> {
    /// Ports from the text of a ports field.
    pub fn new(text: &'a str) -> Ports<'a> {
        Ports(text.trim())
    }

    /// Ports from a field the parser has already trimmed of ASCII white space.
    pub(crate) fn from_trimmed(text: &'a str) -> Ports<'a> {
        Ports(text)
    }

    /// The field's text, trimmed.
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// Whether the field is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The port numbers; a token that is not a port number is passed over.
    pub fn iter(&self) -> impl Iterator<Item = u16> + 'a {
        self.0
            .split([' ', '|'])
            .filter(|token| !token.is_empty())
            .filter_map(|token| token.parse().ok())
    }
}

/// One row of a reputation list: one indicator in one category.
///
/// The same indicator appears on several rows (one per category), and even the same indicator
/// and category can appear twice with other scores and dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row<'a> {
    /// The value the row is about.
    pub indicator: Indicator<'a>,
    /// The category the score is for.
    pub category: CategoryRef<'a>,
    /// The score in that category.
    pub score: Score,
    /// When the indicator was first seen in that category; only detailed lists say.
    pub first_seen: Option<NaiveDate>,
    /// When the indicator was last seen in that category; only detailed lists say.
    pub last_seen: Option<NaiveDate>,
    /// The ports seen; only detailed lists have them.
    pub ports: Ports<'a>,
}

impl Row<'_> {
    /// An owned copy of this row.
    pub fn to_owned(&self) -> OwnedRow {
        OwnedRow {
            indicator: self.indicator.to_owned(),
            category: match self.category {
                CategoryRef::Id(id) => OwnedCategory::Id(id),
                CategoryRef::Name(name) => OwnedCategory::Name(name.to_owned()),
            },
            score: self.score,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            ports: self.ports.iter().collect(),
        }
    }
}

/// An owned [`CategoryRef`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OwnedCategory {
    /// A category ID.
    Id(u16),
    /// A category short name.
    Name(String),
}

/// An owned [`Row`], for callers that keep rows (tests, small tools).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedRow {
    /// The value the row is about.
    pub indicator: OwnedIndicator,
    /// The category the score is for.
    pub category: OwnedCategory,
    /// The score in that category.
    pub score: Score,
    /// When the indicator was first seen in that category.
    pub first_seen: Option<NaiveDate>,
    /// When the indicator was last seen in that category.
    pub last_seen: Option<NaiveDate>,
    /// The ports seen.
    pub ports: Vec<u16>,
}
