//! The compact record the grouper keeps per value: a few bytes per category, two dates.
//!
//! A list of 1.3M indicators must group in a few hundred megabytes at most, so a record holds
//! only what the document and the fingerprint need: per category its current score and the
//! `last_seen` that decided it, and over all rows the earliest `first_seen` and the latest
//! `last_seen`. Dates are days since the common era; an absent date is a sentinel that loses
//! every comparison.

use chrono::{Datelike, NaiveDate};
use smallvec::SmallVec;

/// A date as days since the common era.
pub(crate) type Day = i32;

/// "No first_seen": above every real day, so that `min` ignores it.
pub(crate) const NO_FIRST: Day = i32::MAX;

/// "No last_seen": below every real day, so that `max` ignores it and a dated row always
/// beats an undated one.
pub(crate) const NO_LAST: Day = i32::MIN;

/// A date as a [`Day`], or `none` where the row has none.
pub(crate) fn day(date: Option<NaiveDate>, none: Day) -> Day {
    date.map_or(none, |date| date.num_days_from_ce())
}

/// The date of a [`Day`], or `None` for a sentinel.
pub(crate) fn date(day: Day) -> Option<NaiveDate> {
    if day == NO_FIRST || day == NO_LAST {
        return None;
    }
    NaiveDate::from_num_days_from_ce_opt(day)
}

/// A category as the grouper keys it: an ID (below 2^16) or the index of a name the table
/// does not know (from 2^16 up), interned per grouper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct CategoryKey(u32);

impl CategoryKey {
    const NAME_BASE: u32 = 1 << 16;

    pub(crate) fn id(id: u16) -> CategoryKey {
        CategoryKey(u32::from(id))
    }

    pub(crate) fn name(index: usize) -> CategoryKey {
        let index = u32::try_from(index).expect("fewer than 2^32 category names");
        CategoryKey(Self::NAME_BASE + index)
    }

    /// The ID, or the name index.
    pub(crate) fn split(self) -> Result<u16, usize> {
        match self.0.checked_sub(Self::NAME_BASE) {
            None => Ok(self.0 as u16),
            Some(index) => Err(index as usize),
        }
    }
}

/// One category of a value: its current score and the `last_seen` of the row that set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CategoryScore {
    pub(crate) category: CategoryKey,
    pub(crate) last_seen: Day,
    pub(crate) score: u8,
}

impl CategoryScore {
    /// Whether this row's score replaces `current`'s: the later `last_seen` wins; on the same
    /// day the higher score. The rule picks a maximum, so the row order does not matter.
    fn beats(&self, current: &CategoryScore) -> bool {
        (self.last_seen, self.score) > (current.last_seen, current.score)
    }
}

/// What the grouper keeps per value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    first_seen: Day,
    last_seen: Day,
    categories: SmallVec<[CategoryScore; 2]>,
}

impl Record {
    pub(crate) fn new() -> Record {
        Record {
            first_seen: NO_FIRST,
            last_seen: NO_LAST,
            categories: SmallVec::new(),
        }
    }

    /// Takes one row in.
    pub(crate) fn add(&mut self, row: CategoryScore, first_seen: Day) {
        self.first_seen = self.first_seen.min(first_seen);
        self.last_seen = self.last_seen.max(row.last_seen);

        match self
            .categories
            .iter_mut()
            .find(|held| held.category == row.category)
        {
            Some(held) if row.beats(held) => *held = row,
            Some(_) => {}
            None => self.categories.push(row),
        }
    }

    /// Takes in what another grouper holds for the same value; `remap` turns the other
    /// grouper's category keys into this one's.
    pub(crate) fn merge(&mut self, other: &Record, remap: impl Fn(CategoryKey) -> CategoryKey) {
        self.first_seen = self.first_seen.min(other.first_seen);
        for held in &other.categories {
            let row = CategoryScore {
                category: remap(held.category),
                ..*held
            };
            self.add(row, other.first_seen);
        }
        self.last_seen = self.last_seen.max(other.last_seen);
    }

    /// The External Score: the highest current score over the categories.
    pub(crate) fn external_score(&self) -> u8 {
        self.categories
            .iter()
            .map(|held| held.score)
            .max()
            .unwrap_or(0)
    }

    pub(crate) fn first_seen(&self) -> Option<NaiveDate> {
        date(self.first_seen)
    }

    pub(crate) fn last_seen(&self) -> Option<NaiveDate> {
        date(self.last_seen)
    }

    pub(crate) fn categories(&self) -> impl Iterator<Item = CategoryKey> + '_ {
        self.categories.iter().map(|held| held.category)
    }

    #[cfg(test)]
    pub(crate) fn score_of(&self, category: CategoryKey) -> Option<u8> {
        self.categories
            .iter()
            .find(|held| held.category == category)
            .map(|held| held.score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(text: &str) -> Day {
        day(Some(text.parse().unwrap()), NO_LAST)
    }

    fn row(category: u16, score: u8, first: &str, last: &str) -> (CategoryScore, Day) {
        let held = CategoryScore {
            category: CategoryKey::id(category),
            last_seen: ymd(last),
            score,
        };
        (held, ymd(first))
    }

    #[test]
    fn record_stays_small() {
        // The memory budget of the feed counts on this: 1.3M of them with their keys.
        assert!(
            std::mem::size_of::<Record>() <= 40,
            "{}",
            std::mem::size_of::<Record>()
        );
        assert_eq!(std::mem::size_of::<CategoryScore>(), 12);
    }

    #[test]
    fn latest_row_holds_the_score_whatever_the_order() {
        let rows = [
            row(1, 122, "2018-03-11", "2020-01-22"),
            row(1, 127, "2018-03-11", "2018-06-18"),
        ];
        for order in [[0, 1], [1, 0]] {
            let mut record = Record::new();
            for index in order {
                let (held, first) = rows[index];
                record.add(held, first);
            }
            assert_eq!(record.score_of(CategoryKey::id(1)), Some(122));
            assert_eq!(record.external_score(), 122);
        }
    }

    #[test]
    fn same_day_ties_go_to_the_higher_score() {
        let mut record = Record::new();
        for (held, first) in [
            row(4, 90, "2020-01-01", "2020-01-21"),
            row(4, 95, "2020-01-01", "2020-01-21"),
            row(4, 91, "2020-01-01", "2020-01-21"),
        ] {
            record.add(held, first);
        }
        assert_eq!(record.external_score(), 95);
    }

    #[test]
    fn undated_rows_tie_and_the_higher_score_wins() {
        let mut record = Record::new();
        for score in [40, 70, 55] {
            let held = CategoryScore {
                category: CategoryKey::id(2),
                last_seen: NO_LAST,
                score,
            };
            record.add(held, NO_FIRST);
        }
        assert_eq!(record.external_score(), 70);
        assert_eq!(record.first_seen(), None);
        assert_eq!(record.last_seen(), None);
    }

    #[test]
    fn dates_span_all_rows() {
        let mut record = Record::new();
        for (held, first) in [
            row(16, 42, "2019-12-20", "2019-12-31"),
            row(10, 122, "2018-01-15", "2020-01-22"),
            row(23, 87, "2020-01-16", "2020-01-20"),
        ] {
            record.add(held, first);
        }
        assert_eq!(record.first_seen(), Some("2018-01-15".parse().unwrap()));
        assert_eq!(record.last_seen(), Some("2020-01-22".parse().unwrap()));
    }

    #[test]
    fn merge_equals_adding_the_rows() {
        let rows = [
            row(1, 50, "2019-01-01", "2019-02-01"),
            row(1, 60, "2019-01-05", "2019-01-20"),
            row(2, 30, "2018-05-01", "2019-03-01"),
        ];
        let mut all = Record::new();
        for (held, first) in rows {
            all.add(held, first);
        }

        let (mut left, mut right) = (Record::new(), Record::new());
        left.add(rows[1].0, rows[1].1);
        right.add(rows[0].0, rows[0].1);
        right.add(rows[2].0, rows[2].1);
        left.merge(&right, |key| key);

        assert_eq!(left.external_score(), all.external_score());
        assert_eq!(left.first_seen(), all.first_seen());
        assert_eq!(left.last_seen(), all.last_seen());
        for category in [1, 2] {
            let key = CategoryKey::id(category);
            assert_eq!(left.score_of(key), all.score_of(key));
        }
    }

    #[test]
    fn category_keys_split() {
        assert_eq!(CategoryKey::id(65535).split(), Ok(65535));
        assert_eq!(CategoryKey::name(3).split(), Err(3));
    }
}
