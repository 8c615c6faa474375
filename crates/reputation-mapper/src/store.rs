//! Value stores: each value once, numbered in the order it was first seen.
//!
//! The hash tables hold only 4-byte indices; the values live in plain vectors (addresses as
//! integers, host names end to end in one string). Finding a value that is already there
//! allocates nothing, and the order of first appearance gives documents a stable order.

use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

fn hash_of<V: Hash + ?Sized>(value: &V) -> u64 {
    FxBuildHasher.hash_one(value)
}

fn to_index(len: usize) -> u32 {
    u32::try_from(len).expect("a store holds fewer than 2^30 values")
}

/// Values of a fixed-size type: IPv4 and IPv6 addresses, CIDR blocks.
#[derive(Debug, Clone)]
pub(crate) struct Interner<V> {
    table: HashTable<u32>,
    values: Vec<V>,
}

impl<V> Default for Interner<V> {
    fn default() -> Self {
        Interner {
            table: HashTable::new(),
            values: Vec::new(),
        }
    }
}

impl<V: Copy + Eq + Hash> Interner<V> {
    /// The index of `value`, and whether it was added now.
    pub(crate) fn intern(&mut self, value: V) -> (usize, bool) {
        let hash = hash_of(&value);
        let values = &mut self.values;
        let entry = self.table.entry(
            hash,
            |&index| values[index as usize] == value,
            |&index| hash_of(&values[index as usize]),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(found) => (*found.get() as usize, false),
            hashbrown::hash_table::Entry::Vacant(vacant) => {
                let index = values.len();
                vacant.insert(to_index(index));
                values.push(value);
                (index, true)
            }
        }
    }

    /// The index of `value`, if it is there.
    pub(crate) fn find(&self, value: V) -> Option<usize> {
        let hash = hash_of(&value);
        self.table
            .find(hash, |&index| self.values[index as usize] == value)
            .map(|&index| index as usize)
    }

    pub(crate) fn get(&self, index: usize) -> V {
        self.values[index]
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        let values = &self.values;
        self.table
            .shrink_to_fit(|&index| hash_of(&values[index as usize]));
        self.values.shrink_to_fit();
    }
}

/// Host names, end to end in one string.
#[derive(Debug, Clone, Default)]
pub(crate) struct HostInterner {
    table: HashTable<u32>,
    text: String,
    ends: Vec<u32>,
}

impl HostInterner {
    /// The index of `name`, and whether it was added now.
    pub(crate) fn intern(&mut self, name: &str) -> (usize, bool) {
        let hash = hash_of(name);
        let (text, ends) = (&mut self.text, &mut self.ends);
        let entry = self.table.entry(
            hash,
            |&index| host_at(text, ends, index as usize) == name,
            |&index| hash_of(host_at(text, ends, index as usize)),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(found) => (*found.get() as usize, false),
            hashbrown::hash_table::Entry::Vacant(vacant) => {
                let index = ends.len();
                vacant.insert(to_index(index));
                text.push_str(name);
                ends.push(u32::try_from(text.len()).expect("host names fit in 4 GiB"));
                (index, true)
            }
        }
    }

    /// The index of `name`, if it is there.
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        let hash = hash_of(name);
        self.table
            .find(hash, |&index| self.get(index as usize) == name)
            .map(|&index| index as usize)
    }

    pub(crate) fn get(&self, index: usize) -> &str {
        host_at(&self.text, &self.ends, index)
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        let (text, ends) = (&self.text, &self.ends);
        self.table
            .shrink_to_fit(|&index| hash_of(host_at(text, ends, index as usize)));
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

fn host_at<'a>(text: &'a str, ends: &[u32], index: usize) -> &'a str {
    let start = match index {
        0 => 0,
        _ => ends[index - 1] as usize,
    };
    &text[start..ends[index] as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interner_numbers_values_in_order_of_first_sight() {
        let mut interner = Interner::default();
        assert_eq!(interner.intern(7u32), (0, true));
        assert_eq!(interner.intern(3u32), (1, true));
        assert_eq!(interner.intern(7u32), (0, false));
        assert_eq!(interner.find(3), Some(1));
        assert_eq!(interner.find(4), None);
        assert_eq!(interner.get(1), 3);
        assert_eq!(interner.len(), 2);
    }

    #[test]
    fn host_interner_keeps_names_end_to_end() {
        let mut hosts = HostInterner::default();
        assert_eq!(hosts.intern("a.example"), (0, true));
        assert_eq!(hosts.intern("bb.example"), (1, true));
        assert_eq!(hosts.intern("a.example"), (0, false));
        assert_eq!(hosts.get(1), "bb.example");
        assert_eq!(hosts.find("bb.example"), Some(1));
        assert_eq!(hosts.find("b.example"), None);
    }

    #[test]
    fn many_values_survive_growth() {
        let mut hosts = HostInterner::default();
        let mut numbers = Interner::default();
        for n in 0..10_000u32 {
            hosts.intern(&format!("h{n}.example"));
            numbers.intern(n * 7);
        }
        hosts.shrink_to_fit();
        numbers.shrink_to_fit();
        for n in (0..10_000u32).step_by(97) {
            assert_eq!(hosts.find(&format!("h{n}.example")), Some(n as usize));
            assert_eq!(numbers.find(n * 7), Some(n as usize));
        }
    }
}
